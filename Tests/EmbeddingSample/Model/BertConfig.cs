namespace EmbeddingSample.Model;

/// <summary>The sizes of a BERT encoder, as read from its ONNX graph (<see cref="OnnxBertReader"/>).</summary>
/// <param name="VocabularySize">Rows of the word embedding table (30522 for all-MiniLM-L6-v2).</param>
/// <param name="MaxPositions">Rows of the position embedding table: the longest sequence (512).</param>
/// <param name="TokenTypes">Rows of the token type embedding table (2).</param>
/// <param name="Hidden">The model dimension (384).</param>
/// <param name="Heads">Attention heads (12).</param>
/// <param name="HeadDim">Per-head size (32).</param>
/// <param name="Intermediate">The feed-forward layer's inner size (1536).</param>
/// <param name="Layers">Encoder layers (6).</param>
/// <param name="LayerNormEpsilon">The epsilon every layer norm adds to the variance (1e-12).</param>
public sealed record BertConfig(
    int VocabularySize, int MaxPositions, int TokenTypes, int Hidden, int Heads, int HeadDim, int Intermediate, int Layers,
    float LayerNormEpsilon)
{
    /// <inheritdoc/>
    public override string ToString() =>
        $"{Layers} layers, hidden {Hidden}, {Heads} heads of {HeadDim}, feed-forward {Intermediate}, vocabulary {VocabularySize}, up to {MaxPositions} positions";
}
