using System.Numerics;
using Attention.Native.Cpu;
using Attention.Native.Cpu.Gemm;

namespace Attention.Native.Layers;

/// <summary>The layers' operations on the CPU: <see cref="CpuSgemm"/> projections on the tensors' memory in place.</summary>
internal sealed unsafe class CpuLayerEngine(CpuBackend backend) : LayerEngine
{
    public override void Linear(
        LayerOperand x, int ldx, int rows, int inFeatures, LayerOperand weight, LayerOperand? bias, int outFeatures,
        LayerOperand y, int ldy)
    {
        var output = Span(y);
        CpuSgemm.Multiply(
            transposeA: false, transposeB: true, rows, outFeatures, inFeatures, 1f, Span(x), ldx, Span(weight),
            inFeatures, 0f, output, ldy, backend.ThreadCount);
        if (bias is { } b)
        {
            AddBias(Span(b)[..outFeatures], output, rows, ldy);
        }
    }

    public override void Attention(
        AttentionShape shape, AttentionOptions options, LayerOperand query, LayerOperand key, LayerOperand value,
        LayerOperand output, LayerOperand? probabilities) =>
        backend.ScaledDotProductAttention<float>(
            shape, Span(query), Span(key), Span(value), Span(output), options,
            probabilities: probabilities is { } p ? Span(p)[..checked((int)shape.ProbabilitiesElementCount)] : default);

    public override void Additive(
        in AdditiveAttentionKernel.Problem problem, LayerOperand queries, LayerOperand keys, LayerOperand scoreVector,
        LayerOperand values, LayerOperand output, LayerOperand? probabilities) =>
        AdditiveAttentionKernel.Run(
            problem, Pointer(queries), Pointer(keys), Pointer(scoreVector), Pointer(values), Pointer(output),
            probabilities is { } p ? Pointer(p) : null, backend.ThreadCount);

    public override void Copy(LayerOperand source, LayerOperand destination, long count) =>
        Span(source)[..checked((int)count)].CopyTo(Span(destination));

    private static float* Pointer(LayerOperand operand) => CpuTensor<float>.PointerOf(operand.Tensor) + operand.Offset;

    private static Span<float> Span(LayerOperand operand) => ((CpuTensor<float>)operand.Tensor).AsSpan()[checked((int)operand.Offset)..];

    /// <summary>Adds the bias to each of <paramref name="rows"/> rows (after the GEMM: it reads C once more, cheap next to it).</summary>
    private static void AddBias(ReadOnlySpan<float> bias, Span<float> y, int rows, int ldy)
    {
        int n = bias.Length;
        for (int r = 0; r < rows; r++)
        {
            var row = y.Slice(r * ldy, n);
            int j = 0;
            for (; j <= n - Vector<float>.Count; j += Vector<float>.Count)
            {
                (new Vector<float>(row[j..]) + new Vector<float>(bias[j..])).CopyTo(row[j..]);
            }

            for (; j < n; j++)
            {
                row[j] += bias[j];
            }
        }
    }
}
