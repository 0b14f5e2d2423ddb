using System.Runtime.CompilerServices;
using static Attention.Native.Cpu.Simd.ExpPolynomial;

namespace Attention.Native.Cpu.Simd;

/// <summary>
/// <see cref="ISimd{TVec}"/> on a single <see cref="float"/>: the portable variant, with no SIMD at all, that every
/// vector variant is tested against and that runs where no vector unit is accelerated.
/// </summary>
internal readonly unsafe struct ScalarOps : ISimd<float>
{
    public static int Width => 1;

    public static bool IsHardwareAccelerated => true;

    public static float Zero => 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Broadcast(float value) => value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load(float* source) => *source;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* destination, float value) => *destination = value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Add(float left, float right) => left + right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Subtract(float left, float right) => left - right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Multiply(float left, float right) => left * right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MultiplyAdd(float a, float b, float c) => MathF.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Max(float left, float right) => MathF.Max(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(float value) => value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(float value) => value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Exp2(float x)
    {
        // MathF.Max(NaN, Lowest) would be NaN; the vector max returns Lowest, so keep the scalar in step.
        float clamped = float.IsNaN(x) ? Lowest : MathF.Min(MathF.Max(x, Lowest), Highest);
        float n = MathF.Round(clamped);
        float f = clamped - n;
        float p = MathF.FusedMultiplyAdd(C7, f, C6);
        p = MathF.FusedMultiplyAdd(p, f, C5);
        p = MathF.FusedMultiplyAdd(p, f, C4);
        p = MathF.FusedMultiplyAdd(p, f, C3);
        p = MathF.FusedMultiplyAdd(p, f, C2);
        p = MathF.FusedMultiplyAdd(p, f, C1);
        p = MathF.FusedMultiplyAdd(p, f, 1f);
        return p * BitConverter.Int32BitsToSingle(((int)n + 127) << 23);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float FiniteOrZero(float max) => float.IsNegativeInfinity(max) ? 0f : max;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SoftCap(float x, float cap, float inverseCap)
    {
        float t = x * inverseCap;
        float e = Exp2(MathF.Abs(t) * (-2f * Log2E));
        float tanh = (1f - e) / (1f + e);
        return cap * (t < 0 ? -tanh : tanh);
    }
}
