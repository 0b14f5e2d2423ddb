using System.Runtime.CompilerServices;

namespace Attention.Native.Cpu.Simd;

/// <summary>
/// Vectorised conversions between float and the 16-bit operand types in one variant (<typeparamref name="TOps"/>),
/// bit-identical to <see cref="Half"/>'s and <see cref="BFloat16"/>'s own (round to nearest, ties to even; subnormals,
/// infinities and NaN kept). .NET exposes no F16C conversion, and the scalar <c>(float)Half</c> costs nanoseconds an
/// element: the seed layer's Half attention (B 32, L 64, 8 heads, 1 thread) took 29.8 ms converting element by element
/// against 6.9 ms in float. Here it is integer and float lane arithmetic (<see cref="ISimdBits{TVec}"/>; the float ⇄ half
/// methods follow Fabian Giesen's "half_to_float_fast5" and "float_to_half_fast3_rtne"), two vectors of 16-bit
/// values a step, the remainder by the types' own scalar conversions. The kernels call it with their own operator
/// struct; <see cref="ElementType.Widen{T}"/> and <see cref="ElementType.Narrow{T}"/> dispatch to it by variant.
/// </summary>
internal static unsafe class HalfPrecisionConversions<TOps, TVec>
    where TOps : ISimd<TVec>
    where TVec : unmanaged
{
    /// <summary><paramref name="count"/> float, Half or BFloat16 values as floats, exactly (float is copied).</summary>
    public static void Widen<T>(T* source, float* destination, int count)
        where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            new ReadOnlySpan<float>(source, count).CopyTo(new Span<float>(destination, count));
        }
        else if (typeof(T) == typeof(Half))
        {
            Widen<HalfFormat>((ushort*)source, destination, count);
        }
        else if (typeof(T) == typeof(BFloat16))
        {
            Widen<BFloat16Format>((ushort*)source, destination, count);
        }
        else
        {
            throw NotAnOperand<T>();
        }
    }

    /// <summary><paramref name="count"/> floats rounded to Half or BFloat16 (float is copied).</summary>
    public static void Narrow<T>(float* source, T* destination, int count)
        where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            new ReadOnlySpan<float>(source, count).CopyTo(new Span<float>(destination, count));
        }
        else if (typeof(T) == typeof(Half))
        {
            Narrow<HalfFormat>(source, (ushort*)destination, count);
        }
        else if (typeof(T) == typeof(BFloat16))
        {
            Narrow<BFloat16Format>(source, (ushort*)destination, count);
        }
        else
        {
            throw NotAnOperand<T>();
        }
    }

    private static NotSupportedException NotAnOperand<T>() =>
        new($"{typeof(T).Name} is not an operand type: float, Half and BFloat16 are.");

    // Full optimisation from the first call: at tier 0 every vector operation is a call (ten times slower), and a
    // decoding step's conversions run few enough times that tiering up took most of a short run.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Widen<TFormat>(ushort* source, float* destination, int count)
        where TFormat : struct, ISixteenBitFormat
    {
        CpuIsaObserver.Ran<TOps, TVec>(CpuOperation.Conversion);
        int w = TOps.Width;
        int i = 0;
        for (; i + (2 * w) <= count; i += 2 * w)
        {
            TOps.LoadWidened(source + i, out var low, out var high);
            TOps.Store(destination + i, TFormat.ToSingle(low));
            TOps.Store(destination + i + w, TFormat.ToSingle(high));
        }

        for (; i < count; i++)
        {
            destination[i] = TFormat.ToSingle(source[i]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Narrow<TFormat>(float* source, ushort* destination, int count)
        where TFormat : struct, ISixteenBitFormat
    {
        CpuIsaObserver.Ran<TOps, TVec>(CpuOperation.Conversion);
        int w = TOps.Width;
        int i = 0;
        for (; i + (2 * w) <= count; i += 2 * w)
        {
            var low = TFormat.FromSingle(TOps.Load(source + i));
            var high = TFormat.FromSingle(TOps.Load(source + i + w));
            TOps.StoreNarrowed(destination + i, low, high);
        }

        for (; i < count; i++)
        {
            destination[i] = TFormat.FromSingle(source[i]);
        }
    }

    /// <summary>A 16-bit float format: its lane-wise and scalar conversions (an operator struct per format).</summary>
    private interface ISixteenBitFormat
    {
        /// <summary>Lanes holding 16-bit patterns (sign-extended) to floats.</summary>
        static abstract TVec ToSingle(TVec bits);

        /// <summary>Floats to lanes holding 16-bit patterns in their low bits.</summary>
        static abstract TVec FromSingle(TVec value);

        static abstract float ToSingle(ushort bits);

        static abstract ushort FromSingle(float value);
    }

    private readonly struct HalfFormat : ISixteenBitFormat
    {
        public static TVec ToSingle(TVec bits) => HalfBitsToSingle(bits);

        public static TVec FromSingle(TVec value) => SingleToHalfBits(value);

        public static float ToSingle(ushort bits) => (float)BitConverter.UInt16BitsToHalf(bits);

        public static ushort FromSingle(float value) => BitConverter.HalfToUInt16Bits((Half)value);
    }

    private readonly struct BFloat16Format : ISixteenBitFormat
    {
        public static TVec ToSingle(TVec bits) => TOps.ShiftLeftBits(bits, 16);

        public static TVec FromSingle(TVec value) => SingleToBFloat16Bits(value);

        public static float ToSingle(ushort bits) => BFloat16.FromRawValue(bits);

        public static ushort FromSingle(float value) => ((BFloat16)value).RawValue;
    }

    /// <summary>
    /// Half bits, sign-extended to 32-bit lanes (<see cref="ISimdBits{TVec}.LoadSignExtended"/>), to floats, exactly:
    /// the exponent and mantissa moved to float's positions with the sign, then one multiply by 2¹¹² rebases the
    /// exponent from 15 to 127, exact for normals and subnormals alike (a subnormal half is a float subnormal before it:
    /// m·2⁻¹³⁶·2¹¹² = m·2⁻²⁴). An all-ones exponent (infinity, NaN) lands on 2¹⁶ and gets float's all-ones exponent
    /// ORed in. Seven lane operations after the load (the decode kernel runs it on every K and V element it reads).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TVec HalfBitsToSingle(TVec signExtended)
    {
        // Lane bits 0–14 (exponent, mantissa) go to 13–27; bit 18, a copy of the sign, to 31.
        var o = TOps.And(TOps.ShiftLeftBits(signExtended, 13), TOps.BroadcastBits(0x8FFF_E000));
        var rebased = TOps.Multiply(o, TOps.BroadcastBits(0x7780_0000));
        var isInfinityOrNaN = TOps.EqualsBits(TOps.And(o, TOps.BroadcastBits(0x0F80_0000)), TOps.BroadcastBits(0x0F80_0000));
        return TOps.Or(rebased, TOps.And(isInfinityOrNaN, TOps.BroadcastBits(0x7F80_0000)));
    }

    /// <summary>Floats to Half bits (in the low 16 bits of each lane), rounded to nearest even.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec SingleToHalfBits(TVec value)
    {
        var sign = TOps.And(value, TOps.BroadcastBits(0x8000_0000));
        var f = TOps.Xor(value, sign);

        // ≥ 65536 (after rounding, everything from 65520 up is infinite; the normal path carries into it): Inf or NaN.
        var isNaN = TOps.GreaterThanBits(f, TOps.BroadcastBits(0x7F80_0000));
        var special = TOps.Select(isNaN, TOps.BroadcastBits(0x7E00), TOps.BroadcastBits(0x7C00));
        var isLarge = TOps.GreaterThanBits(f, TOps.BroadcastBits(0x4780_0000 - 1));

        // Below 2⁻¹⁴ the result is subnormal or zero: adding 0.5 (magic exponent) lets the FPU round to the
        // subnormal's bit position, which is then read from the low mantissa bits.
        var denormMagic = TOps.BroadcastBits(0x3F00_0000);
        var tiny = TOps.SubtractBits(TOps.Add(f, denormMagic), denormMagic);
        var isTiny = TOps.GreaterThanBits(TOps.BroadcastBits(0x3880_0000), f);

        // Normal: rebase the exponent, add 0xFFF plus the kept mantissa's lowest bit (ties to even), drop 13 bits.
        var odd = TOps.And(TOps.ShiftRightBits(f, 13), TOps.BroadcastBits(1));
        var normal = TOps.ShiftRightBits(TOps.AddBits(TOps.AddBits(f, TOps.BroadcastBits(0xC800_0FFF)), odd), 13);

        var result = TOps.Select(isTiny, tiny, normal);
        result = TOps.Select(isLarge, special, result);
        return TOps.Or(result, TOps.ShiftRightBits(sign, 16));
    }

    /// <summary>Floats to BFloat16 bits (in the low 16 bits of each lane), rounded to nearest even; NaN stays NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec SingleToBFloat16Bits(TVec value)
    {
        var high = TOps.ShiftRightBits(value, 16);
        var rounding = TOps.AddBits(TOps.BroadcastBits(0x7FFF), TOps.And(high, TOps.BroadcastBits(1)));
        var rounded = TOps.ShiftRightBits(TOps.AddBits(value, rounding), 16);
        var quietNaN = TOps.Or(high, TOps.BroadcastBits(0x40));
        var isNaN = TOps.GreaterThanBits(TOps.And(value, TOps.BroadcastBits(0x7FFF_FFFF)), TOps.BroadcastBits(0x7F80_0000));
        return TOps.Select(isNaN, quietNaN, rounded);
    }
}
