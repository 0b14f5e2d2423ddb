namespace Attention.Native.Validation;

/// <summary>
/// A validated backward call: the forward's <see cref="AttentionProblem"/> (every gradient has the strides of the
/// operand it belongs to: <c>dO</c> the output's, <c>dQ</c> the query's, <c>dK</c> the key's, <c>dV</c> the value's)
/// and whether the bias gradient is wanted. Built only by <see cref="AttentionBackwardValidator"/>.
/// </summary>
internal sealed class AttentionBackwardProblem
{
    public required AttentionProblem Forward { get; init; }

    /// <summary>Whether <c>biasGrad</c> (the bias's broadcast shape, summed over broadcast dims) is written.</summary>
    public required bool WantsBiasGrad { get; init; }

    /// <summary>Whether <c>sinksGrad</c> (<c>[Hq]</c>, summed over batch and rows) is written.</summary>
    public required bool WantsSinksGrad { get; init; }
}
