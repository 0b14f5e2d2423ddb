using Attention.Native.Validation;

namespace Attention.Native.Layers;

/// <summary>
/// What <see cref="AdditiveAttention.ForwardForTraining"/> keeps for <see cref="AdditiveAttention.Backward"/>: the
/// inputs, the weights the forward used, the projections <c>W₁·q</c> and <c>W₂·k</c>, the attention weights
/// <c>[B, Tq, Tk]</c> and the output (host floats). The weights are kept because the caller may update the layer's own
/// before it asks for the gradients; the attention weights because additive scores are materialised row by row anyway
/// (no fused kernel to recompute them in), so keeping them spares the backward one <c>Tq·Tk·Units</c> pass of tanh.
/// </summary>
public sealed class AdditiveAttentionActivations
{
    internal AdditiveAttentionActivations(AdditiveAttention layer, AdditiveAttentionProblem problem)
    {
        Layer = layer;
        Problem = problem;
    }

    /// <summary>Number of sequences B.</summary>
    public int Batch => Problem.Batch;

    /// <summary>Query positions per sequence Tq.</summary>
    public int QueryLength => Problem.QueryLength;

    /// <summary>Key positions per sequence Tk.</summary>
    public int KeyLength => Problem.KeyLength;

    /// <summary>The attention weights of the forward, <c>[B, Tq, Tk]</c> (0 where masked).</summary>
    public ReadOnlyMemory<float> AttentionWeights => Probabilities;

    internal AdditiveAttention Layer { get; }

    internal AdditiveAttentionProblem Problem { get; }

    internal float[] Query { get; init; } = [];

    internal float[] Key { get; init; } = [];

    internal float[] Value { get; init; } = [];

    internal float[] Output { get; init; } = [];

    internal float[] Probabilities { get; init; } = [];

    internal float[] ProjectedQuery { get; init; } = [];

    internal float[] ProjectedKey { get; init; } = [];

    internal float[] QueryWeight { get; init; } = [];

    internal float[] KeyWeight { get; init; } = [];

    internal float[] ScoreVector { get; init; } = [];
}
