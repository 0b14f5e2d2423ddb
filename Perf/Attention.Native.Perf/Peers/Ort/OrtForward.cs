using Attention.Native.Perf.Workloads;
using EmbeddingSample.Ort;
using Microsoft.ML.OnnxRuntime;

namespace Attention.Native.Perf.Peers.Ort;

/// <summary>
/// One ONNX Runtime session (CPU provider, <c>intra_op_num_threads</c> = n, one inter-op thread, every graph
/// optimisation, no spinning in idle pool threads) on a one-node model, run on operand and output buffers made once. The operator:
/// <list type="bullet">
/// <item><c>com.microsoft.MultiHeadAttention</c> for multi-head cases without a causal mask and with more than one
/// query: there it runs ORT's fused kernel (MLAS flash attention). It takes <c>[B, L, H·D]</c>, so the operands are
/// transposed to that once, before the timing, and ORT's own copies to <c>[B, H, L, D]</c> are part of its time.</item>
/// <item>ONNX <c>Attention</c> (opset 23) otherwise: causal (<c>is_causal</c>, top-left), decode and grouped-query
/// cases (fewer key/value heads, natively), reading the BHSD operands in place. MultiHeadAttention takes its unfused
/// path for a causal mask, has no grouped heads, and for decode would copy the whole K/V cache inside each run.</item>
/// </list>
/// </summary>
internal sealed class OrtForward : IPeerForward
{
    private readonly InferenceSession session;
    private readonly RunOptions runOptions = new();
    private readonly OrtValue[] inputs;
    private readonly OrtValue[] outputs;
    private readonly float[] output;
    private readonly AttentionShape shape;
    private readonly bool sequenceMajor;

    public OrtForward(PerfCase perfCase, RandomOperands operands, int threads)
    {
        shape = perfCase.Shape;
        var s = shape;
        sequenceMajor = UsesMultiHeadAttention(perfCase);
        float[] query = operands.Query, key = operands.Key, value = operands.Value;
        long[] queryShape, keyShape, valueShape, outputShape;
        byte[] model;
        if (sequenceMajor)
        {
            query = HeadLayout.ToSequenceMajor(query, s.Batch, s.QueryHeads, s.QueryLength, s.HeadDim);
            key = HeadLayout.ToSequenceMajor(key, s.Batch, s.KeyValueHeads, s.KeyLength, s.HeadDim);
            value = HeadLayout.ToSequenceMajor(value, s.Batch, s.KeyValueHeads, s.KeyLength, s.ValueHeadDim);
            queryShape = [s.Batch, s.QueryLength, (long)s.QueryHeads * s.HeadDim];
            keyShape = [s.Batch, s.KeyLength, (long)s.KeyValueHeads * s.HeadDim];
            valueShape = [s.Batch, s.KeyLength, (long)s.KeyValueHeads * s.ValueHeadDim];
            outputShape = [s.Batch, s.QueryLength, (long)s.QueryHeads * s.ValueHeadDim];
            model = OrtAttentionModel.MultiHeadAttention(queryShape, keyShape, valueShape, outputShape, s.QueryHeads, causal: false);
            Kernel = "MultiHeadAttention";
        }
        else
        {
            queryShape = [s.Batch, s.QueryHeads, s.QueryLength, s.HeadDim];
            keyShape = [s.Batch, s.KeyValueHeads, s.KeyLength, s.HeadDim];
            valueShape = [s.Batch, s.KeyValueHeads, s.KeyLength, s.ValueHeadDim];
            outputShape = [s.Batch, s.QueryHeads, s.QueryLength, s.ValueHeadDim];
            model = OrtAttentionModel.Attention(queryShape, keyShape, valueShape, outputShape, perfCase.IsCausal);
            Kernel = "Attention-23";
        }

        using var options = OrtSentenceEncoder.CpuOptions(threads);
        session = new InferenceSession(model, options);
        inputs =
        [
            OrtValue.CreateTensorValueFromMemory(query, queryShape),
            OrtValue.CreateTensorValueFromMemory(key, keyShape),
            OrtValue.CreateTensorValueFromMemory(value, valueShape),
        ];

        // NaN until ORT writes it, so an output it never wrote fails the check.
        output = new float[s.OutputElementCount];
        output.AsSpan().Fill(float.NaN);
        outputs = [OrtValue.CreateTensorValueFromMemory(output, outputShape)];
    }

    public string Kernel { get; }

    /// <summary>Whether <paramref name="perfCase"/> goes to MultiHeadAttention's fused kernel (see the class).</summary>
    public static bool UsesMultiHeadAttention(PerfCase perfCase) =>
        !perfCase.IsCausal && !perfCase.IsDecode && perfCase.Shape.QueryHeads == perfCase.Shape.KeyValueHeads;

    public void Run() => session.Run(runOptions, InputNames, inputs, OutputNames, outputs);

    public float[] Output() => sequenceMajor
        ? HeadLayout.ToHeadMajor(output, shape.Batch, shape.QueryHeads, shape.QueryLength, shape.ValueHeadDim)
        : (float[])output.Clone();

    public void Dispose()
    {
        foreach (var value in inputs.Concat(outputs))
        {
            value.Dispose();
        }

        runOptions.Dispose();
        session.Dispose();
    }

    private static readonly string[] InputNames = ["q", "k", "v"];

    private static readonly string[] OutputNames = ["y"];
}
