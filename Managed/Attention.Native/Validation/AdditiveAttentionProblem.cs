namespace Attention.Native.Validation;

/// <summary>
/// A validated additive (Bahdanau) attention call after its projections, as both backends' kernels take it:
/// <c>[Batch, QueryLength, Units]</c> projected queries against <c>[Batch, KeyLength, Units]</c> projected keys, values
/// <c>ValueDim</c> wide; the key range, mask and bias rules come from <paramref name="Masks"/>.
/// </summary>
/// <param name="Batch">Sequences in the call.</param>
/// <param name="QueryLength">Query rows per sequence.</param>
/// <param name="KeyLength">Keys per sequence.</param>
/// <param name="Units">Hidden units of the score (the width of the projections).</param>
/// <param name="ValueDim">Features per value row.</param>
/// <param name="Masks">The validated masks, key lengths and causal alignment (one head).</param>
internal readonly record struct AdditiveAttentionProblem(
    int Batch, int QueryLength, int KeyLength, int Units, int ValueDim, AttentionProblem Masks);
