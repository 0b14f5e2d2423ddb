using System.Runtime.CompilerServices;
using static Attention.Native.Cpu.Simd.ExpPolynomial;

namespace Attention.Native.Cpu.Simd;

/// <summary>
/// <see cref="ISimd{TVec}"/> on a single <see cref="float"/>: the portable variant, with no SIMD at all, that every
/// vector variant is tested against and that runs where no vector unit is accelerated.
/// </summary>
internal readonly unsafe struct ScalarOps : ISimd<float>
{
    public static CpuKernelVariant Variant => CpuKernelVariant.Scalar;

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
    public static float Tanh(float x)
    {
        float magnitude = MathF.Abs(x);
        if (magnitude < TanhPolynomial.Threshold)
        {
            float z = x * x;
            float p = MathF.FusedMultiplyAdd(z, TanhPolynomial.C4, TanhPolynomial.C3);
            p = MathF.FusedMultiplyAdd(p, z, TanhPolynomial.C2);
            p = MathF.FusedMultiplyAdd(p, z, TanhPolynomial.C1);
            p = MathF.FusedMultiplyAdd(p, z, TanhPolynomial.C0);
            return MathF.FusedMultiplyAdd(p * z, x, x);
        }

        float e = Exp2(magnitude * (-2f * Log2E));
        float tanh = (1f - e) / (1f + e);
        return x < 0 ? -tanh : tanh;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SoftCap(float x, float cap, float inverseCap) => cap * Tanh(x * inverseCap);

    // The bit operations: the float carries the lane's 32 bits (moves between registers keep NaN payloads).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float BroadcastBits(uint bits) => BitConverter.UInt32BitsToSingle(bits);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float And(float left, float right) => FromBits(Bits(left) & Bits(right));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Or(float left, float right) => FromBits(Bits(left) | Bits(right));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Xor(float left, float right) => FromBits(Bits(left) ^ Bits(right));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float AddBits(float left, float right) => FromBits(Bits(left) + Bits(right));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SubtractBits(float left, float right) => FromBits(Bits(left) - Bits(right));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ShiftLeftBits(float value, int count) => FromBits(Bits(value) << count);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ShiftRightBits(float value, int count) => FromBits(Bits(value) >> count);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float EqualsBits(float left, float right) => Mask(Bits(left) == Bits(right));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float GreaterThanBits(float left, float right) => Mask((int)Bits(left) > (int)Bits(right));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Select(float mask, float ifTrue, float ifFalse) =>
        FromBits((Bits(mask) & Bits(ifTrue)) | (~Bits(mask) & Bits(ifFalse)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadWidened(ushort* source, out float low, out float high)
    {
        low = LoadSignExtended((short*)source);
        high = LoadSignExtended((short*)source + 1);
    }

    // The shifts keep the JIT from reading the 8- or 16-bit load's neighbours: .NET 10's JIT turns a reinterpreted one-
    // or two-byte load into a four-byte float load (dotnet/runtime#133580), which put the next elements in the high bits.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float LoadSignExtended(short* source) => BitConverter.Int32BitsToSingle((*source << 16) >> 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float LoadBytesSignExtended(sbyte* source) => BitConverter.Int32BitsToSingle((*source << 24) >> 24);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float LoadBytesAsSingle(sbyte* source) => *source;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreNarrowed(ushort* destination, float low, float high)
    {
        destination[0] = (ushort)Bits(low);
        destination[1] = (ushort)Bits(high);
    }

    private static uint Bits(float value) => BitConverter.SingleToUInt32Bits(value);

    private static float FromBits(uint bits) => BitConverter.UInt32BitsToSingle(bits);

    private static float Mask(bool condition) => FromBits(condition ? uint.MaxValue : 0u);
}
