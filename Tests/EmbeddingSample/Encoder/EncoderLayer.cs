using Attention.Native;
using Attention.Native.Cpu;
using Attention.Native.Layers;
using EmbeddingSample.Model;

namespace EmbeddingSample.Encoder;

/// <summary>
/// One BERT layer's weights on a backend: the self-attention as a <see cref="MultiHeadAttention{T}"/> (its packed
/// in-projection is BERT's query, key and value projections stacked), the feed-forward weights as tensors for the
/// layers' SGEMM / cuBLAS (projections the CPU engine keeps packed), and what the host adds after them: the feed-forward biases and the two layer norms.
/// </summary>
internal sealed class EncoderLayer<T> : IDisposable
    where T : unmanaged
{
    public EncoderLayer(AttentionBackend backend, BertConfig config, BertLayerWeights weights)
    {
        Attention = new MultiHeadAttention<T>(backend, new MultiHeadAttentionOptions(config.Hidden, config.Heads));
        Attention.LoadPyTorchWeights(
            [.. weights.Query.Weight, .. weights.Key.Weight, .. weights.Value.Weight],
            [.. weights.Query.Bias, .. weights.Key.Bias, .. weights.Value.Bias],
            weights.AttentionOutput.Weight, weights.AttentionOutput.Bias);
        IntermediateWeight = Upload(backend, weights.Intermediate.Weight);
        Intermediate = new ProjectionWeight<T>(IntermediateWeight, 0, config.Intermediate, config.Hidden);
        IntermediateBias = Rounded(weights.Intermediate.Bias);
        OutputWeight = Upload(backend, weights.Output.Weight);
        Output = new ProjectionWeight<T>(OutputWeight, 0, config.Hidden, config.Intermediate);
        OutputBias = Rounded(weights.Output.Bias);
        AttentionNorm = weights.AttentionNorm;
        OutputNorm = weights.OutputNorm;
    }

    public MultiHeadAttention<T> Attention { get; }

    /// <summary><c>[Intermediate, Hidden]</c>.</summary>
    public AttentionTensor<T> IntermediateWeight { get; }

    /// <summary>The intermediate projection on <see cref="IntermediateWeight"/>, packed once by the CPU engine.</summary>
    public ProjectionWeight<T> Intermediate { get; }

    /// <summary><c>[Intermediate]</c>, added before GELU (rounded to <typeparamref name="T"/> as a projection's bias is).</summary>
    public float[] IntermediateBias { get; }

    /// <summary><c>[Hidden, Intermediate]</c>.</summary>
    public AttentionTensor<T> OutputWeight { get; }

    /// <summary>The output projection on <see cref="OutputWeight"/>, packed once by the CPU engine.</summary>
    public ProjectionWeight<T> Output { get; }

    /// <summary><c>[Hidden]</c>, added before the residual and the norm.</summary>
    public float[] OutputBias { get; }

    public LayerNormWeights AttentionNorm { get; }

    public LayerNormWeights OutputNorm { get; }

    public void Dispose()
    {
        Attention.Dispose();
        Intermediate.Dispose();
        Output.Dispose();
        IntermediateWeight.Dispose();
        OutputWeight.Dispose();
    }

    /// <summary>Float weights as a tensor of <typeparamref name="T"/>, rounded once for Half.</summary>
    private static AttentionTensor<T> Upload(AttentionBackend backend, float[] values) => backend.Upload<T>(Narrow(values));

    /// <summary>The values as <typeparamref name="T"/> holds them, as floats.</summary>
    private static float[] Rounded(float[] values)
    {
        var wide = new float[values.Length];
        ElementType.Widen<T>(CpuKernelVariant.Auto, Narrow(values), wide);
        return wide;
    }

    private static T[] Narrow(float[] values)
    {
        var narrow = new T[values.Length];
        ElementType.Narrow<T>(CpuKernelVariant.Auto, values, narrow);
        return narrow;
    }
}
