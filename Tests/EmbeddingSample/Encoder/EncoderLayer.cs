using Attention.Native;
using Attention.Native.Cpu;
using Attention.Native.Layers;
using EmbeddingSample.Model;

namespace EmbeddingSample.Encoder;

/// <summary>
/// One BERT layer's weights on a backend: the self-attention as a <see cref="MultiHeadAttention{T}"/> (its packed
/// in-projection is BERT's query, key and value projections stacked), the feed-forward projections as tensors for the
/// layers' SGEMM / cuBLAS, and the two layer norms (host).
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
        IntermediateBias = Upload(backend, weights.Intermediate.Bias);
        OutputWeight = Upload(backend, weights.Output.Weight);
        OutputBias = Upload(backend, weights.Output.Bias);
        AttentionNorm = weights.AttentionNorm;
        OutputNorm = weights.OutputNorm;
    }

    public MultiHeadAttention<T> Attention { get; }

    /// <summary><c>[Intermediate, Hidden]</c>.</summary>
    public AttentionTensor<T> IntermediateWeight { get; }

    public AttentionTensor<T> IntermediateBias { get; }

    /// <summary><c>[Hidden, Intermediate]</c>.</summary>
    public AttentionTensor<T> OutputWeight { get; }

    public AttentionTensor<T> OutputBias { get; }

    public LayerNormWeights AttentionNorm { get; }

    public LayerNormWeights OutputNorm { get; }

    public void Dispose()
    {
        Attention.Dispose();
        IntermediateWeight.Dispose();
        IntermediateBias.Dispose();
        OutputWeight.Dispose();
        OutputBias.Dispose();
    }

    /// <summary>Float weights as a tensor of <typeparamref name="T"/>, rounded once for Half.</summary>
    private static AttentionTensor<T> Upload(AttentionBackend backend, float[] values)
    {
        var narrow = new T[values.Length];
        ElementType.Narrow<T>(CpuKernelVariant.Auto, values, narrow);
        return backend.Upload<T>(narrow);
    }
}
