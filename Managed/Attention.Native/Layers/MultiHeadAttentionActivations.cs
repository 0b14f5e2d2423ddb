namespace Attention.Native.Layers;

/// <summary>
/// What <see cref="MultiHeadAttention{T}.ForwardForTraining(int, ReadOnlySpan{T}, Span{T}, LayerMasks?)"/> keeps for
/// <see cref="MultiHeadAttention{T}.Backward"/> (host floats): the inputs, the weights the forward used, the Q/K/V
/// projections, the attention's output (the context, before the output projection) and its log-sum-exp
/// <c>[B, H, Lq]</c>. The probabilities are not kept: the attention backward recomputes them block by block from Q, K
/// and the log-sum-exp (FlashAttention-2's backward), so nothing of size <c>Lq·Lk</c> is stored. The projections are
/// kept rather than recomputed: they cost <c>O(B·L·E)</c> memory, as the inputs do, and recomputing them would cost
/// three GEMMs. The weights are kept because the caller may update the layer's own before it asks for the gradients.
/// </summary>
public sealed class MultiHeadAttentionActivations
{
    internal MultiHeadAttentionActivations(object layer, AttentionShape shape, AttentionOptions options, bool selfAttention)
    {
        Layer = layer;
        Shape = shape;
        Options = options;
        IsSelfAttention = selfAttention;
    }

    /// <summary>Number of sequences B.</summary>
    public int Batch => Shape.Batch;

    /// <summary>Query positions per sequence Lq.</summary>
    public int QueryLength => Shape.QueryLength;

    /// <summary>Key positions per sequence Lk.</summary>
    public int KeyLength => Shape.KeyLength;

    /// <summary>Whether the call was self-attention (keys and values projected from the query input).</summary>
    public bool IsSelfAttention { get; }

    internal object Layer { get; }

    internal AttentionShape Shape { get; }

    /// <summary>The attention's options: the resolved masks and the strides of the projections' <c>[B, L, H, D]</c> views.</summary>
    internal AttentionOptions Options { get; }

    internal float[] Query { get; init; } = [];

    internal float[] Key { get; init; } = [];

    internal float[] Value { get; init; } = [];

    internal PyTorchAttentionWeights Weights { get; init; } = new([], [], [], [], [], []);

    internal float[] ProjectedQuery { get; init; } = [];

    internal float[] ProjectedKey { get; init; } = [];

    internal float[] ProjectedValue { get; init; } = [];

    internal float[] Context { get; init; } = [];

    internal float[] LogSumExp { get; init; } = [];
}
