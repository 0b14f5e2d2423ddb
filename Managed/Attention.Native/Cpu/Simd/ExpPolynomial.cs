namespace Attention.Native.Cpu.Simd;

/// <summary>
/// Constants of the exp2 approximation shared by every width: <c>2^x = 2^n · 2^f</c> with <c>n = round(x)</c>,
/// <c>f ∈ [−½, ½]</c>, and <c>2^f</c> from the degree-7 Taylor series of <c>e^(f·ln 2)</c> (truncation error
/// <c>(½ ln 2)^8 / 8! ≈ 5e-9</c>, so float rounding dominates).
/// </summary>
internal static class ExpPolynomial
{
    public const float C1 = 0.6931471805599453f;
    public const float C2 = 0.2402265069591007f;
    public const float C3 = 0.05550410866482158f;
    public const float C4 = 0.009618129107628477f;
    public const float C5 = 0.0013333558146428443f;
    public const float C6 = 1.5403530393381606e-4f;
    public const float C7 = 1.525273380405984e-5f;

    /// <summary>
    /// Inputs are clamped here: <c>round(−127) + 127 = 0</c> is a zero biased exponent, so the scale factor is +0 and
    /// the result exactly 0 below −126.5 (rounding is to even) — for −∞ too — without a compare and select.
    /// </summary>
    public const float Lowest = -127f;

    /// <summary>Clamp so that <c>n + 127</c> stays a valid biased exponent.</summary>
    public const float Highest = 127f;

    public const float Log2E = 1.4426950408889634f;

    public const float Ln2 = 0.6931471805599453f;
}
