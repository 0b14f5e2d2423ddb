namespace EmbeddingSample.Encoder;

/// <summary>The steps of <see cref="SentenceEncoder{T}.Encode"/> that <see cref="EncoderProfile"/> times.</summary>
public enum EncoderPhase
{
    /// <summary>Word + position + token type embeddings and their layer norm (host).</summary>
    Embeddings,

    /// <summary>The token rows copied into the padded <c>[B, L, E]</c> layout the attention layer takes.</summary>
    Scatter,

    /// <summary><c>MultiHeadAttention.Forward</c>: the packed Q/K/V projection, the fused attention, the output projection.</summary>
    SelfAttention,

    /// <summary>The two feed-forward projections (SGEMM / cuBLAS), biases included.</summary>
    FeedForward,

    /// <summary>GELU on the intermediate activations (host).</summary>
    Gelu,

    /// <summary>Both residual sums and layer norms of every layer (host).</summary>
    LayerNorm,

    /// <summary>Mean pooling and L2 normalisation (host).</summary>
    Pooling,
}
