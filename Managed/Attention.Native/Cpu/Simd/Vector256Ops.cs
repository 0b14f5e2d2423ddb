using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static Attention.Native.Cpu.Simd.ExpPolynomial;

namespace Attention.Native.Cpu.Simd;

/// <summary><see cref="ISimd{TVec}"/> on <see cref="Vector256{T}"/> (AVX2 + FMA on x64).</summary>
internal readonly unsafe struct Vector256Ops : ISimd<Vector256<float>>
{
    public static CpuKernelVariant Variant => CpuKernelVariant.Vector256;

    public static int Width => Vector256<float>.Count;

    public static bool IsHardwareAccelerated => Vector256.IsHardwareAccelerated;

    public static Vector256<float> Zero => Vector256<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Broadcast(float value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(float* source) => Vector256.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* destination, Vector256<float> value) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> left, Vector256<float> right) => left + right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Subtract(Vector256<float> left, Vector256<float> right) => left - right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Multiply(Vector256<float> left, Vector256<float> right) => left * right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
        Vector256.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Max(Vector256<float> left, Vector256<float> right) => Vector256.Max(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector256<float> value) => Vector256.Sum(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Vector256<float> value) =>
        Vector128Ops.MaxAcross(Vector128.Max(value.GetLower(), value.GetUpper()));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp2(Vector256<float> x)
    {
        var clamped = Vector256.Min(Vector256.Max(x, Vector256.Create(Lowest)), Vector256.Create(Highest));
        var n = Vector256.Round(clamped);
        var f = clamped - n;
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(C7), f, Vector256.Create(C6));
        p = Vector256.FusedMultiplyAdd(p, f, Vector256.Create(C5));
        p = Vector256.FusedMultiplyAdd(p, f, Vector256.Create(C4));
        p = Vector256.FusedMultiplyAdd(p, f, Vector256.Create(C3));
        p = Vector256.FusedMultiplyAdd(p, f, Vector256.Create(C2));
        p = Vector256.FusedMultiplyAdd(p, f, Vector256.Create(C1));
        p = Vector256.FusedMultiplyAdd(p, f, Vector256.Create(1f));
        // n = −127 gives biased exponent 0, i.e. scale = +0: everything below −126.5 (−∞ included) is exactly 0.
        var scale = Vector256.ShiftLeft(Vector256.ConvertToInt32(n) + Vector256.Create(127), 23).AsSingle();
        return p * scale;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> FiniteOrZero(Vector256<float> max) =>
        Vector256.ConditionalSelect(Vector256.Equals(max, Vector256.Create(float.NegativeInfinity)), Zero, max);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Tanh(Vector256<float> x)
    {
        var magnitude = Vector256.Abs(x);
        var e = Exp2(magnitude * Vector256.Create(-2f * Log2E));
        var one = Vector256.Create(1f);
        var tanh = (one - e) / (one + e);
        var large = Vector256.ConditionalSelect(Vector256.LessThan(x, Zero), -tanh, tanh);
        var z = x * x;
        var p = Vector256.FusedMultiplyAdd(z, Vector256.Create(TanhPolynomial.C4), Vector256.Create(TanhPolynomial.C3));
        p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(TanhPolynomial.C2));
        p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(TanhPolynomial.C1));
        p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(TanhPolynomial.C0));
        var small = Vector256.FusedMultiplyAdd(p * z, x, x);
        return Vector256.ConditionalSelect(Vector256.LessThan(magnitude, Vector256.Create(TanhPolynomial.Threshold)), small, large);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> SoftCap(Vector256<float> x, Vector256<float> cap, Vector256<float> inverseCap) => cap * Tanh(x * inverseCap);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> BroadcastBits(uint bits) => Vector256.Create(bits).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> And(Vector256<float> left, Vector256<float> right) => (left.AsUInt32() & right.AsUInt32()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Or(Vector256<float> left, Vector256<float> right) => (left.AsUInt32() | right.AsUInt32()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Xor(Vector256<float> left, Vector256<float> right) => (left.AsUInt32() ^ right.AsUInt32()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> AddBits(Vector256<float> left, Vector256<float> right) => (left.AsUInt32() + right.AsUInt32()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> SubtractBits(Vector256<float> left, Vector256<float> right) => (left.AsUInt32() - right.AsUInt32()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ShiftLeftBits(Vector256<float> value, int count) => Vector256.ShiftLeft(value.AsUInt32(), count).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ShiftRightBits(Vector256<float> value, int count) =>
        Vector256.ShiftRightLogical(value.AsUInt32(), count).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> EqualsBits(Vector256<float> left, Vector256<float> right) =>
        Vector256.Equals(left.AsUInt32(), right.AsUInt32()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> GreaterThanBits(Vector256<float> left, Vector256<float> right) =>
        Vector256.GreaterThan(left.AsInt32(), right.AsInt32()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Select(Vector256<float> mask, Vector256<float> ifTrue, Vector256<float> ifFalse) =>
        Vector256.ConditionalSelect(mask.AsUInt32(), ifTrue.AsUInt32(), ifFalse.AsUInt32()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadWidened(ushort* source, out Vector256<float> low, out Vector256<float> high)
    {
        var halves = Vector256.Load((short*)source);
        low = Vector256.WidenLower(halves).AsSingle();
        high = Vector256.WidenUpper(halves).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadSignExtended(short* source) =>
        Avx2.IsSupported ? Avx2.ConvertToVector256Int32(source).AsSingle()
        : Vector256.WidenLower(Vector128.Load(source).ToVector256Unsafe()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadBytesSignExtended(sbyte* source) =>
        (Avx2.IsSupported ? Avx2.ConvertToVector256Int32(source)
            : Vector256.WidenLower(Vector128.WidenLower(Vector128.CreateScalar(Unsafe.ReadUnaligned<long>(source)).AsSByte()).ToVector256Unsafe())).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadBytesAsSingle(sbyte* source) =>
        Vector256.ConvertToSingle(LoadBytesSignExtended(source).AsInt32());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreNarrowed(ushort* destination, Vector256<float> low, Vector256<float> high) =>
        Vector256.Narrow(low.AsUInt32(), high.AsUInt32()).Store(destination);
}
