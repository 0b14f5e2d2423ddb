namespace EmbeddingSample.Model;

/// <summary>A linear layer <c>y = x·Wᵀ + b</c> in PyTorch's layout.</summary>
/// <param name="Weight"><c>[Out, In]</c>, row-major.</param>
/// <param name="Bias"><c>[Out]</c>.</param>
/// <param name="In">Input features.</param>
/// <param name="Out">Output features.</param>
public sealed record LinearWeights(float[] Weight, float[] Bias, int In, int Out);

/// <summary>A layer norm's scale and shift, <c>[Hidden]</c> each.</summary>
/// <param name="Scale">γ.</param>
/// <param name="Shift">β.</param>
public sealed record LayerNormWeights(float[] Scale, float[] Shift);

/// <summary>One BERT encoder layer: self-attention, its output projection and norm, the feed-forward block and its norm.</summary>
/// <param name="Query">The query projection.</param>
/// <param name="Key">The key projection.</param>
/// <param name="Value">The value projection.</param>
/// <param name="AttentionOutput">The attention's output projection.</param>
/// <param name="AttentionNorm">The norm after the attention block's residual.</param>
/// <param name="Intermediate">The feed-forward layer's first projection (GELU follows).</param>
/// <param name="Output">The feed-forward layer's second projection.</param>
/// <param name="OutputNorm">The norm after the feed-forward block's residual.</param>
public sealed record BertLayerWeights(
    LinearWeights Query, LinearWeights Key, LinearWeights Value, LinearWeights AttentionOutput, LayerNormWeights AttentionNorm,
    LinearWeights Intermediate, LinearWeights Output, LayerNormWeights OutputNorm);

/// <summary>A BERT encoder's weights: the embeddings, their norm and the layers.</summary>
/// <param name="Config">The sizes.</param>
/// <param name="WordEmbeddings"><c>[VocabularySize, Hidden]</c>.</param>
/// <param name="PositionEmbeddings"><c>[MaxPositions, Hidden]</c>.</param>
/// <param name="TokenTypeEmbeddings"><c>[TokenTypes, Hidden]</c>.</param>
/// <param name="EmbeddingNorm">The norm of the summed embeddings.</param>
/// <param name="Layers">The encoder layers, first to last.</param>
public sealed record BertWeights(
    BertConfig Config, float[] WordEmbeddings, float[] PositionEmbeddings, float[] TokenTypeEmbeddings,
    LayerNormWeights EmbeddingNorm, IReadOnlyList<BertLayerWeights> Layers);
