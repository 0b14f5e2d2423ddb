using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static Attention.Native.Cpu.Simd.ExpPolynomial;

namespace Attention.Native.Cpu.Simd;

/// <summary><see cref="ISimd{TVec}"/> on <see cref="Vector512{T}"/> (AVX-512F on x64).</summary>
internal readonly unsafe struct Vector512Ops : ISimd<Vector512<float>>
{
    public static CpuKernelVariant Variant => CpuKernelVariant.Vector512;

    public static int Width => Vector512<float>.Count;

    public static bool IsHardwareAccelerated => Vector512.IsHardwareAccelerated;

    public static Vector512<float> Zero => Vector512<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Broadcast(float value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(float* source) => Vector512.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* destination, Vector512<float> value) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> left, Vector512<float> right) => left + right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Subtract(Vector512<float> left, Vector512<float> right) => left - right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Multiply(Vector512<float> left, Vector512<float> right) => left * right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) =>
        Vector512.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Max(Vector512<float> left, Vector512<float> right) => Vector512.Max(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector512<float> value) => Vector512.Sum(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Vector512<float> value) =>
        Vector256Ops.MaxAcross(Vector256.Max(value.GetLower(), value.GetUpper()));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp2(Vector512<float> x)
    {
        var clamped = Vector512.Min(Vector512.Max(x, Vector512.Create(Lowest)), Vector512.Create(Highest));
        var n = Vector512.Round(clamped);
        var f = clamped - n;
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(C7), f, Vector512.Create(C6));
        p = Vector512.FusedMultiplyAdd(p, f, Vector512.Create(C5));
        p = Vector512.FusedMultiplyAdd(p, f, Vector512.Create(C4));
        p = Vector512.FusedMultiplyAdd(p, f, Vector512.Create(C3));
        p = Vector512.FusedMultiplyAdd(p, f, Vector512.Create(C2));
        p = Vector512.FusedMultiplyAdd(p, f, Vector512.Create(C1));
        p = Vector512.FusedMultiplyAdd(p, f, Vector512.Create(1f));
        // n = −127 gives biased exponent 0, i.e. scale = +0: everything below −126.5 (−∞ included) is exactly 0.
        var scale = Vector512.ShiftLeft(Vector512.ConvertToInt32(n) + Vector512.Create(127), 23).AsSingle();
        return p * scale;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> FiniteOrZero(Vector512<float> max) =>
        Vector512.ConditionalSelect(Vector512.Equals(max, Vector512.Create(float.NegativeInfinity)), Zero, max);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Tanh(Vector512<float> x)
    {
        var magnitude = Vector512.Abs(x);
        var e = Exp2(magnitude * Vector512.Create(-2f * Log2E));
        var one = Vector512.Create(1f);
        var tanh = (one - e) / (one + e);
        var large = Vector512.ConditionalSelect(Vector512.LessThan(x, Zero), -tanh, tanh);
        var z = x * x;
        var p = Vector512.FusedMultiplyAdd(z, Vector512.Create(TanhPolynomial.C4), Vector512.Create(TanhPolynomial.C3));
        p = Vector512.FusedMultiplyAdd(p, z, Vector512.Create(TanhPolynomial.C2));
        p = Vector512.FusedMultiplyAdd(p, z, Vector512.Create(TanhPolynomial.C1));
        p = Vector512.FusedMultiplyAdd(p, z, Vector512.Create(TanhPolynomial.C0));
        var small = Vector512.FusedMultiplyAdd(p * z, x, x);
        return Vector512.ConditionalSelect(Vector512.LessThan(magnitude, Vector512.Create(TanhPolynomial.Threshold)), small, large);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> SoftCap(Vector512<float> x, Vector512<float> cap, Vector512<float> inverseCap) => cap * Tanh(x * inverseCap);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> BroadcastBits(uint bits) => Vector512.Create(bits).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> And(Vector512<float> left, Vector512<float> right) => (left.AsUInt32() & right.AsUInt32()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Or(Vector512<float> left, Vector512<float> right) => (left.AsUInt32() | right.AsUInt32()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Xor(Vector512<float> left, Vector512<float> right) => (left.AsUInt32() ^ right.AsUInt32()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> AddBits(Vector512<float> left, Vector512<float> right) => (left.AsUInt32() + right.AsUInt32()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> SubtractBits(Vector512<float> left, Vector512<float> right) => (left.AsUInt32() - right.AsUInt32()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ShiftLeftBits(Vector512<float> value, int count) => Vector512.ShiftLeft(value.AsUInt32(), count).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ShiftRightBits(Vector512<float> value, int count) =>
        Vector512.ShiftRightLogical(value.AsUInt32(), count).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> EqualsBits(Vector512<float> left, Vector512<float> right) =>
        Vector512.Equals(left.AsUInt32(), right.AsUInt32()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> GreaterThanBits(Vector512<float> left, Vector512<float> right) =>
        Vector512.GreaterThan(left.AsInt32(), right.AsInt32()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Select(Vector512<float> mask, Vector512<float> ifTrue, Vector512<float> ifFalse) =>
        Vector512.ConditionalSelect(mask.AsUInt32(), ifTrue.AsUInt32(), ifFalse.AsUInt32()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadWidened(ushort* source, out Vector512<float> low, out Vector512<float> high)
    {
        var halves = Vector512.Load((short*)source);
        low = Vector512.WidenLower(halves).AsSingle();
        high = Vector512.WidenUpper(halves).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadSignExtended(short* source) =>
        Avx512F.IsSupported ? Avx512F.ConvertToVector512Int32(Vector256.Load(source)).AsSingle()
        : Vector512.WidenLower(Vector256.Load(source).ToVector512Unsafe()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadBytesSignExtended(sbyte* source) =>
        (Avx512F.IsSupported ? Avx512F.ConvertToVector512Int32(Vector128.Load(source))
            : Vector512.WidenLower(Vector256.WidenLower(Vector128.Load(source).ToVector256Unsafe()).ToVector512Unsafe())).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadBytesAsSingle(sbyte* source) =>
        Vector512.ConvertToSingle(LoadBytesSignExtended(source).AsInt32());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreNarrowed(ushort* destination, Vector512<float> low, Vector512<float> high) =>
        Vector512.Narrow(low.AsUInt32(), high.AsUInt32()).Store(destination);
}
