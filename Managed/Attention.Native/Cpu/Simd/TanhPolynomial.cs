namespace Attention.Native.Cpu.Simd;

/// <summary>
/// <c>tanh(x) ≈ x + x³·P(x²)</c> for <c>|x| &lt; 0.625</c> (Cephes' tanhf coefficients): relative error about 1e-7.
/// The exponential form <c>(1 − e)/(1 + e)</c> loses every digit of a small <c>x</c> to the cancellation in
/// <c>1 − e</c>; a soft cap far above the scores (<c>tanh(s/cap)</c> with <c>s/cap</c> near 1e-8) needs them.
/// </summary>
internal static class TanhPolynomial
{
    public const float Threshold = 0.625f;
    public const float C0 = -3.33332819422e-1f;
    public const float C1 = 1.33314422036e-1f;
    public const float C2 = -5.37397155531e-2f;
    public const float C3 = 2.06390887954e-2f;
    public const float C4 = -5.70498872745e-3f;
}
