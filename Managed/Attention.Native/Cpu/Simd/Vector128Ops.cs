using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static Attention.Native.Cpu.Simd.ExpPolynomial;

namespace Attention.Native.Cpu.Simd;

/// <summary><see cref="ISimd{TVec}"/> on <see cref="Vector128{T}"/> (SSE or AdvSimd; FMA where the hardware has it).</summary>
internal readonly unsafe struct Vector128Ops : ISimd<Vector128<float>>
{
    public static CpuKernelVariant Variant => CpuKernelVariant.Vector128;

    public static int Width => Vector128<float>.Count;

    public static bool IsHardwareAccelerated => Vector128.IsHardwareAccelerated;

    public static Vector128<float> Zero => Vector128<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Broadcast(float value) => Vector128.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Load(float* source) => Vector128.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* destination, Vector128<float> value) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Add(Vector128<float> left, Vector128<float> right) => left + right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Subtract(Vector128<float> left, Vector128<float> right) => left - right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Multiply(Vector128<float> left, Vector128<float> right) => left * right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) =>
        Vector128.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Max(Vector128<float> left, Vector128<float> right) => Vector128.Max(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector128<float> value) => Vector128.Sum(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Vector128<float> value) =>
        MathF.Max(MathF.Max(value[0], value[1]), MathF.Max(value[2], value[3]));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Exp2(Vector128<float> x)
    {
        var clamped = Vector128.Min(Vector128.Max(x, Vector128.Create(Lowest)), Vector128.Create(Highest));
        var n = Vector128.Round(clamped);
        var f = clamped - n;
        var p = Vector128.FusedMultiplyAdd(Vector128.Create(C7), f, Vector128.Create(C6));
        p = Vector128.FusedMultiplyAdd(p, f, Vector128.Create(C5));
        p = Vector128.FusedMultiplyAdd(p, f, Vector128.Create(C4));
        p = Vector128.FusedMultiplyAdd(p, f, Vector128.Create(C3));
        p = Vector128.FusedMultiplyAdd(p, f, Vector128.Create(C2));
        p = Vector128.FusedMultiplyAdd(p, f, Vector128.Create(C1));
        p = Vector128.FusedMultiplyAdd(p, f, Vector128.Create(1f));
        // n = −127 gives biased exponent 0, i.e. scale = +0: everything below −126.5 (−∞ included) is exactly 0.
        var scale = Vector128.ShiftLeft(Vector128.ConvertToInt32(n) + Vector128.Create(127), 23).AsSingle();
        return p * scale;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> FiniteOrZero(Vector128<float> max) =>
        Vector128.ConditionalSelect(Vector128.Equals(max, Vector128.Create(float.NegativeInfinity)), Zero, max);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Tanh(Vector128<float> x)
    {
        var magnitude = Vector128.Abs(x);
        var e = Exp2(magnitude * Vector128.Create(-2f * Log2E));
        var one = Vector128.Create(1f);
        var tanh = (one - e) / (one + e);
        var large = Vector128.ConditionalSelect(Vector128.LessThan(x, Zero), -tanh, tanh);
        var z = x * x;
        var p = Vector128.FusedMultiplyAdd(z, Vector128.Create(TanhPolynomial.C4), Vector128.Create(TanhPolynomial.C3));
        p = Vector128.FusedMultiplyAdd(p, z, Vector128.Create(TanhPolynomial.C2));
        p = Vector128.FusedMultiplyAdd(p, z, Vector128.Create(TanhPolynomial.C1));
        p = Vector128.FusedMultiplyAdd(p, z, Vector128.Create(TanhPolynomial.C0));
        var small = Vector128.FusedMultiplyAdd(p * z, x, x);
        return Vector128.ConditionalSelect(Vector128.LessThan(magnitude, Vector128.Create(TanhPolynomial.Threshold)), small, large);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> SoftCap(Vector128<float> x, Vector128<float> cap, Vector128<float> inverseCap) => cap * Tanh(x * inverseCap);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> BroadcastBits(uint bits) => Vector128.Create(bits).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> And(Vector128<float> left, Vector128<float> right) => (left.AsUInt32() & right.AsUInt32()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Or(Vector128<float> left, Vector128<float> right) => (left.AsUInt32() | right.AsUInt32()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Xor(Vector128<float> left, Vector128<float> right) => (left.AsUInt32() ^ right.AsUInt32()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> AddBits(Vector128<float> left, Vector128<float> right) => (left.AsUInt32() + right.AsUInt32()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> SubtractBits(Vector128<float> left, Vector128<float> right) => (left.AsUInt32() - right.AsUInt32()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ShiftLeftBits(Vector128<float> value, int count) => Vector128.ShiftLeft(value.AsUInt32(), count).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ShiftRightBits(Vector128<float> value, int count) =>
        Vector128.ShiftRightLogical(value.AsUInt32(), count).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> EqualsBits(Vector128<float> left, Vector128<float> right) =>
        Vector128.Equals(left.AsUInt32(), right.AsUInt32()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> GreaterThanBits(Vector128<float> left, Vector128<float> right) =>
        Vector128.GreaterThan(left.AsInt32(), right.AsInt32()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Select(Vector128<float> mask, Vector128<float> ifTrue, Vector128<float> ifFalse) =>
        Vector128.ConditionalSelect(mask.AsUInt32(), ifTrue.AsUInt32(), ifFalse.AsUInt32()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadWidened(ushort* source, out Vector128<float> low, out Vector128<float> high)
    {
        var halves = Vector128.Load((short*)source);
        low = Vector128.WidenLower(halves).AsSingle();
        high = Vector128.WidenUpper(halves).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LoadSignExtended(short* source) =>
        Sse41.IsSupported ? Sse41.ConvertToVector128Int32(source).AsSingle()
        : Vector128.WidenLower(Vector128.CreateScalar(Unsafe.ReadUnaligned<long>(source)).AsInt16()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LoadBytesSignExtended(sbyte* source) =>
        (Sse41.IsSupported ? Sse41.ConvertToVector128Int32(source)
            : Vector128.WidenLower(Vector128.WidenLower(Vector128.CreateScalar(Unsafe.ReadUnaligned<int>(source)).AsSByte()))).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LoadBytesAsSingle(sbyte* source) =>
        Vector128.ConvertToSingle(LoadBytesSignExtended(source).AsInt32());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreNarrowed(ushort* destination, Vector128<float> low, Vector128<float> high) =>
        Vector128.Narrow(low.AsUInt32(), high.AsUInt32()).Store(destination);
}
