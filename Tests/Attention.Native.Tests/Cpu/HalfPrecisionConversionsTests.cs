using System.Runtime.InteropServices;
using Attention.Native.Cpu;
using Attention.Native.Cpu.Simd;

namespace Attention.Native.Tests.Cpu;

/// <summary>
/// The vectorised float ⇄ Half/BFloat16 conversions, in each variant (forced through <see cref="CpuIsa.Dispatch{TKernel}"/>,
/// emulated where this machine lacks it), are bit-identical to <see cref="Half"/>'s and <see cref="BFloat16"/>'s own:
/// every 16-bit pattern widened, and a sweep of float bit patterns (every sign, exponent and rounding case, subnormals,
/// the overflow edge, infinities, NaN) narrowed; and the decode kernel's loads, which convert in registers. Odd counts
/// and offsets reach the scalar tails too.
/// </summary>
[Trait("Isa", "Rerun")]
public sealed class HalfPrecisionConversionsTests
{
    public static TheoryData<CpuKernelVariant, int, int> HalfWidenings() => Cases([(0, 65536), (3, 65533), (7, 9)]);

    public static TheoryData<CpuKernelVariant, int, int> BFloat16Widenings() => Cases([(0, 65536), (5, 65531)]);

    public static TheoryData<CpuKernelVariant> Variants() =>
        new(CpuKernelVariant.Vector512, CpuKernelVariant.Vector256, CpuKernelVariant.Vector128, CpuKernelVariant.Scalar);

    [Theory]
    [MemberData(nameof(HalfWidenings))]
    public void Widening_half_matches_the_scalar_conversion_for_every_bit_pattern(CpuKernelVariant variant, int start, int count) =>
        AssertWidening<Half>(variant, bits => (float)BitConverter.UInt16BitsToHalf(bits), start, count);

    [Theory]
    [MemberData(nameof(BFloat16Widenings))]
    public void Widening_bfloat16_matches_the_scalar_conversion_for_every_bit_pattern(CpuKernelVariant variant, int start, int count) =>
        AssertWidening<BFloat16>(variant, bits => BFloat16.FromRawValue(bits).ToSingle(), start, count);

    // Half NaNs are compared by being NaN of the same sign: the payload bits differ from Half's own conversion.
    [Theory]
    [MemberData(nameof(Variants))]
    public void Narrowing_to_half_matches_the_scalar_conversion(CpuKernelVariant variant) =>
        AssertNarrowing<Half>(variant, value => BitConverter.HalfToUInt16Bits((Half)value), nanExact: false);

    [Theory]
    [MemberData(nameof(Variants))]
    public void Narrowing_to_bfloat16_matches_the_scalar_conversion(CpuKernelVariant variant) =>
        AssertNarrowing<BFloat16>(variant, value => ((BFloat16)value).RawValue, nanExact: true);

    /// <summary>
    /// The decode kernel's loads (<see cref="ElementLoads{TOps, TVec}"/>: a vector of K or V elements converted in
    /// registers) give the same floats as the types' own conversions: every Half and BFloat16 bit pattern, every signed
    /// byte.
    /// </summary>
    [Theory]
    [MemberData(nameof(Variants))]
    public unsafe void Loading_in_registers_matches_the_scalar_conversion_for_every_bit_pattern(CpuKernelVariant variant)
    {
        var bits = AllSixteenBitPatterns();
        var bytes = new sbyte[256];
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (sbyte)(i - 128);
        }

        var halves = new float[bits.Length];
        var bfloats = new float[bits.Length];
        var fromBytes = new float[bytes.Length];
        fixed (ushort* source = bits)
        fixed (sbyte* byteSource = bytes)
        fixed (float* half = halves)
        fixed (float* bfloat = bfloats)
        fixed (float* fromByte = fromBytes)
        {
            var loads = new RegisterLoads(source, bits.Length, byteSource, bytes.Length, half, bfloat, fromByte);
            CpuIsa.Dispatch(variant, ref loads);
        }

        for (int i = 0; i < bits.Length; i++)
        {
            AssertSameFloat((float)BitConverter.UInt16BitsToHalf(bits[i]), halves[i], bits[i]);
            AssertSameFloat(BFloat16.FromRawValue(bits[i]).ToSingle(), bfloats[i], bits[i]);
        }

        for (int i = 0; i < bytes.Length; i++)
        {
            Assert.Equal(bytes[i], fromBytes[i]);
        }
    }

    /// <summary>The conversion runs in the variant asked for, and <see cref="CpuKernelVariant.Auto"/> in the resolved one.</summary>
    [Theory]
    [MemberData(nameof(Variants))]
    [InlineData(CpuKernelVariant.Auto)]
    public void Each_conversion_runs_in_the_variant_asked_for(CpuKernelVariant variant)
    {
        var expected = variant == CpuKernelVariant.Auto ? CpuIsa.Resolve(variant) : variant;
        using var observation = CpuIsaObserver.Observe();
        var wide = new float[37];
        ElementType.Widen<Half>(variant, new Half[37], wide);
        ElementType.Narrow<BFloat16>(variant, wide, new BFloat16[37]);
        Assert.Equal([expected], observation.Variants(CpuOperation.Conversion));
    }

    /// <summary>Whole vectors through <see cref="ElementLoads{TOps, TVec}.Load{T}"/> (the counts are multiples of every width).</summary>
    private readonly unsafe struct RegisterLoads(
        ushort* bits, int count, sbyte* bytes, int byteCount, float* halves, float* bfloats, float* fromBytes) : ISimdKernel
    {
        public void Run<TOps, TVec>()
            where TOps : ISimd<TVec>
            where TVec : unmanaged
        {
            for (int i = 0; i < count; i += TOps.Width)
            {
                TOps.Store(halves + i, ElementLoads<TOps, TVec>.Load((Half*)bits + i));
                TOps.Store(bfloats + i, ElementLoads<TOps, TVec>.Load((BFloat16*)bits + i));
            }

            for (int i = 0; i < byteCount; i += TOps.Width)
            {
                TOps.Store(fromBytes + i, ElementLoads<TOps, TVec>.Load(bytes + i));
            }
        }
    }

    private static TheoryData<CpuKernelVariant, int, int> Cases((int Start, int Count)[] ranges)
    {
        var data = new TheoryData<CpuKernelVariant, int, int>();
        foreach (var variant in Variants())
        {
            foreach (var (start, count) in ranges)
            {
                data.Add(variant, start, count);
            }
        }

        return data;
    }

    private static void AssertNarrowing<T>(CpuKernelVariant variant, Func<float, ushort> scalar, bool nanExact)
        where T : unmanaged
    {
        var values = FloatSweep();
        var narrow = new ushort[values.Length];
        ElementType.Narrow<T>(variant, values, MemoryMarshal.Cast<ushort, T>(narrow.AsSpan()));

        for (int i = 0; i < values.Length; i++)
        {
            ushort expected = scalar(values[i]);
            if (float.IsNaN(values[i]) && !nanExact)
            {
                Assert.True(Half.IsNaN(BitConverter.UInt16BitsToHalf(narrow[i])), $"{values[i]} gave 0x{narrow[i]:X4}");
                Assert.Equal(expected & 0x8000, narrow[i] & 0x8000);
            }
            else if (expected != narrow[i])
            {
                Assert.Fail($"{values[i]:R} (0x{BitConverter.SingleToUInt32Bits(values[i]):X8}): 0x{narrow[i]:X4}, expected 0x{expected:X4}");
            }
        }
    }

    private static void AssertWidening<T>(CpuKernelVariant variant, Func<ushort, float> scalar, int start, int count)
        where T : unmanaged
    {
        var bits = AllSixteenBitPatterns();
        var wide = new float[count];
        ElementType.Widen<T>(variant, MemoryMarshal.Cast<ushort, T>(bits.AsSpan(start, count)), wide);

        for (int i = 0; i < count; i++)
        {
            AssertSameFloat(scalar(bits[start + i]), wide[i], bits[start + i]);
        }
    }

    private static ushort[] AllSixteenBitPatterns()
    {
        var bits = new ushort[65536];
        for (int i = 0; i < bits.Length; i++)
        {
            bits[i] = (ushort)i;
        }

        return bits;
    }

    /// <summary>
    /// Every 211th float bit pattern (both signs, all exponents and many mantissas), every pattern within 64 of each
    /// Half rounding boundary class (ties at 2⁻²⁵…2¹⁶, the smallest subnormal's half, 65504/65520), and specials; an
    /// odd count so the tail runs.
    /// </summary>
    private static float[] FloatSweep()
    {
        var values = new List<float>();
        for (long b = 0; b <= uint.MaxValue; b += 211)
        {
            values.Add(BitConverter.UInt32BitsToSingle((uint)b));
        }

        foreach (float edge in new[] { 65504f, 65519.996f, 65520f, 65536f, 6.1035156e-05f, 5.9604645e-08f, 2.9802322e-08f, 1f, 1.0004883f, 2049f, 1e-10f })
        {
            uint center = BitConverter.SingleToUInt32Bits(edge);
            for (uint d = 0; d < 128; d++)
            {
                values.Add(BitConverter.UInt32BitsToSingle(center - 64 + d));
                values.Add(-BitConverter.UInt32BitsToSingle(center - 64 + d));
            }
        }

        values.AddRange([0f, -0f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, -float.NaN, float.Epsilon, float.MaxValue]);
        return [.. values];
    }

    private static void AssertSameFloat(float expected, float actual, ushort bits)
    {
        if (float.IsNaN(expected))
        {
            Assert.True(float.IsNaN(actual), $"0x{bits:X4} gave {actual}");
            Assert.Equal(float.IsNegative(expected), float.IsNegative(actual));
        }
        else
        {
            Assert.True(
                BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(actual),
                $"0x{bits:X4}: {actual:R}, expected {expected:R}");
        }
    }
}
