using Attention.Native.Cpu;
using Attention.Native.Cpu.Gemm;

namespace Attention.Native.Layers;

/// <summary>
/// A linear projection <c>Y = X·Wᵀ + b</c> (PyTorch's Linear layout, <c>W</c> is <c>[out, in]</c>) and its gradients on
/// host floats, with the library's <see cref="CpuSgemm"/>: what the layers' training passes run their projections on.
/// </summary>
internal readonly record struct HostLinear(CpuKernelVariant Variant, int Threads)
{
    /// <summary><c>Y[rows, out] = X[rows, in]·Wᵀ + bias</c> (no bias when <paramref name="bias"/> is empty).</summary>
    public void Forward(ReadOnlySpan<float> x, int rows, int inFeatures, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outFeatures, Span<float> y)
    {
        CpuSgemm.Multiply(Variant, transposeA: false, transposeB: true, rows, outFeatures, inFeatures, 1f, x, inFeatures, weight, inFeatures, 0f, y, outFeatures, Threads);
        if (bias.IsEmpty)
        {
            return;
        }

        for (int r = 0; r < rows; r++)
        {
            var row = y.Slice(r * outFeatures, outFeatures);
            for (int c = 0; c < outFeatures; c++)
            {
                row[c] += bias[c];
            }
        }
    }

    /// <summary>
    /// The gradients of <see cref="Forward"/> from <paramref name="outputGrad"/> (<c>dY</c>, <c>[rows, out]</c>):
    /// <c>dX = dY·W</c> (added to <paramref name="inputGrad"/> when <paramref name="accumulate"/>, so that inputs used by
    /// several projections sum their gradients), <c>dW = dYᵀ·X</c>, and <c>db</c> the column sums of <c>dY</c> (when
    /// <paramref name="biasGrad"/> is not empty).
    /// </summary>
    public void Backward(
        ReadOnlySpan<float> outputGrad, ReadOnlySpan<float> x, int rows, int inFeatures, ReadOnlySpan<float> weight, int outFeatures,
        Span<float> inputGrad, bool accumulate, Span<float> weightGrad, Span<float> biasGrad)
    {
        CpuSgemm.Multiply(Variant, transposeA: false, transposeB: false, rows, inFeatures, outFeatures, 1f, outputGrad, outFeatures, weight, inFeatures, accumulate ? 1f : 0f, inputGrad, inFeatures, Threads);
        CpuSgemm.Multiply(Variant, transposeA: true, transposeB: false, outFeatures, inFeatures, rows, 1f, outputGrad, outFeatures, x, inFeatures, 0f, weightGrad, inFeatures, Threads);
        if (biasGrad.IsEmpty)
        {
            return;
        }

        biasGrad.Clear();
        for (int r = 0; r < rows; r++)
        {
            var row = outputGrad.Slice(r * outFeatures, outFeatures);
            for (int c = 0; c < outFeatures; c++)
            {
                biasGrad[c] += row[c];
            }
        }
    }

    /// <summary>The host work of a layer on <paramref name="backend"/>: the CPU backend's variant and threads, or the host's.</summary>
    public static HostLinear For(AttentionBackend backend, CpuKernelVariant hostVariant) =>
        new(hostVariant, backend is CpuBackend cpu ? cpu.ThreadCount : 0);
}
