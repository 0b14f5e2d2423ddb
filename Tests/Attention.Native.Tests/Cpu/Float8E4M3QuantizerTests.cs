using System.Runtime.Intrinsics;
using Attention.Native.Cpu.Decode;
using Attention.Native.Cpu.Simd;

namespace Attention.Native.Tests.Cpu;

/// <summary>
/// The library's e4m3fn codec (<see cref="Float8E4M3Quantizer"/>, the <c>KeyValueCacheStorage.Float8E4M3</c> cache's
/// format) against the tests' own (<see cref="Float8E4M3"/>): all 256 codes decoded, by the scalar rule and by each
/// ISA's in-register load the decode kernel reads rows with; encoding at every midpoint between neighbouring codes (ties
/// to even), around them, at the subnormal edge, past 448 (saturation), and for NaN and the infinities.
/// </summary>
public sealed class Float8E4M3QuantizerTests
{
    [Fact]
    public void Every_code_decodes_as_the_test_codec()
    {
        for (int code = 0; code < 256; code++)
        {
            AssertSame(Float8E4M3.Decode((byte)code), Float8E4M3Quantizer.Decode((byte)code), $"code {code:X2}");
        }
    }

    [Fact]
    public void Every_isa_load_decodes_every_code_in_registers()
    {
        var codes = new byte[256 + 64];
        for (int i = 0; i < codes.Length; i++)
        {
            codes[i] = (byte)i;
        }

        AssertLoads<ScalarOps, float>(codes);
        AssertLoads<Vector128Ops, Vector128<float>>(codes);
        AssertLoads<Vector256Ops, Vector256<float>>(codes);
        AssertLoads<Vector512Ops, Vector512<float>>(codes);
    }

    [Fact]
    public void Encoding_rounds_to_nearest_even_at_and_around_every_midpoint()
    {
        for (int code = 0; code < 0x7E; code++)
        {
            double low = Float8E4M3.Decode((byte)code), high = Float8E4M3.Decode((byte)(code + 1));
            float middle = (float)((low + high) / 2);
            int even = (code & 1) == 0 ? code : code + 1;
            foreach (int sign in new[] { 0, 0x80 })
            {
                float s = sign == 0 ? 1 : -1;
                Assert.Equal((byte)(sign | even), Float8E4M3Quantizer.Encode(s * middle));
                Assert.Equal((byte)(sign | code), Float8E4M3Quantizer.Encode(s * MathF.BitDecrement(middle)));
                Assert.Equal((byte)(sign | (code + 1)), Float8E4M3Quantizer.Encode(s * MathF.BitIncrement(middle)));
                Assert.Equal((byte)(sign | code), Float8E4M3Quantizer.Encode(s * (float)low));
            }
        }
    }

    [Fact]
    public void Encoding_matches_the_test_codec_on_random_values_of_every_range()
    {
        var random = TestRandom.Create(31);
        for (int i = 0; i < 20000; i++)
        {
            float value = (float)((random.NextDouble() - 0.5) * Math.Pow(2, random.Next(-14, 11)));
            Assert.Equal(Float8E4M3.Encode(value), Float8E4M3Quantizer.Encode(value));
        }
    }

    [Theory]
    [InlineData(448f, 0x7E)]
    [InlineData(463.99f, 0x7E)]
    [InlineData(464f, 0x7E)]
    [InlineData(1e30f, 0x7E)]
    [InlineData(float.PositiveInfinity, 0x7E)]
    [InlineData(float.NegativeInfinity, 0xFE)]
    [InlineData(-500f, 0xFE)]
    [InlineData(float.NaN, 0xFF)] // .NET's NaN has its sign bit set: kept
    [InlineData(-0f, 0x80)]
    [InlineData(1e-30f, 0x00)]
    [InlineData(1.4e-45f, 0x00)]
    [InlineData(0.0146484375f, 0x08)]
    public void Saturates_keeps_nan_and_flushes_below_half_the_smallest_subnormal(float value, int code)
    {
        Assert.Equal((byte)code, Float8E4M3Quantizer.Encode(value));
    }

    [Fact]
    public void First_append_scales_are_the_finite_maximum_over_448_and_one_without_one()
    {
        Assert.Equal(2f / 448f, Float8E4M3Quantizer.ScaleOf(2f));
        Assert.Equal(1f, Float8E4M3Quantizer.ScaleOf(0f));
        Assert.Equal(1f, Float8E4M3Quantizer.ScaleOf(1e-44f));
    }

    private static unsafe void AssertLoads<TOps, TVec>(byte[] codes)
        where TOps : ISimd<TVec>
        where TVec : unmanaged
    {
        var decoded = new float[256 + TOps.Width];
        fixed (byte* source = codes)
        fixed (float* target = decoded)
        {
            for (int i = 0; i < 256; i += TOps.Width)
            {
                TOps.Store(target + i, ElementLoads<TOps, TVec>.Load((Fp8E4M3*)(source + i)));
            }
        }

        for (int code = 0; code < 256; code++)
        {
            AssertSame(Float8E4M3.Decode((byte)code), decoded[code], $"{typeof(TOps).Name}, code {code:X2}");
        }
    }

    private static void AssertSame(float expected, float actual, string context) =>
        Assert.True(
            BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual) || (float.IsNaN(expected) && float.IsNaN(actual)),
            $"{context}: {actual} (bits {BitConverter.SingleToInt32Bits(actual):X8}), expected {expected}");
}
