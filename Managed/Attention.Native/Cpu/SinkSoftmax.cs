using static Attention.Native.Cpu.Simd.ExpPolynomial;

namespace Attention.Native.Cpu;

/// <summary>
/// A row's attention sink (<see cref="AttentionOptions.Sinks"/>) folded into the kernels' online-softmax state, which
/// they keep in base 2: the running max <c>m</c> (of <c>s·log2 e</c>) and the sum <c>l = Σ 2^(s − m)</c> that O is
/// divided by. The sink adds <c>2^(sink·log2 e − m)</c> to <c>l</c> and nothing to the accumulator.
/// </summary>
internal static class SinkSoftmax
{
    /// <summary>
    /// <paramref name="sum"/> with the sink's term added, for a row that saw a key (<c>sum &gt; 0</c>); a row that saw
    /// none keeps 0, so that its output stays 0. The term overflows to +∞ only where the sink outweighs every key by
    /// more than 2^127; O then rounds to 0, as it does in float64.
    /// </summary>
    /// <param name="max2">The row's running max, base 2.</param>
    /// <param name="sum">The row's running sum.</param>
    /// <param name="sink">The sink logit, natural log; −∞ for none.</param>
    public static float Fold(float max2, float sum, float sink) =>
        sum > 0 ? sum + float.Exp2((sink * Log2E) - max2) : sum;

    /// <summary>
    /// The natural log-sum-exp of a row from its base-2 log-sum-exp <paramref name="log2"/> and its folded
    /// <paramref name="sum"/>: the sink alone where the row saw no key (−∞ without a sink) or the sink's term overflowed.
    /// </summary>
    /// <param name="log2">The row's <c>m + log2 l</c>.</param>
    /// <param name="sum">The row's folded sum.</param>
    /// <param name="sink">The sink logit, natural log; −∞ for none.</param>
    public static float LogSumExp(float log2, float sum, float sink) =>
        sum > 0 && !float.IsPositiveInfinity(sum) ? log2 * Ln2 : sink;
}
