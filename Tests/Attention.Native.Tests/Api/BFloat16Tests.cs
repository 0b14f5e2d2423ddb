namespace Attention.Native.Tests.Api;

/// <summary>Conversions of <see cref="BFloat16"/> to and from float, and its (bitwise) equality.</summary>
public sealed class BFloat16Tests
{
    [Theory]
    [InlineData(0x3F808000u, 0x3F80)] // 1 + 2^-8: halfway, even neighbour below
    [InlineData(0x3F818000u, 0x3F82)] // 1 + 3·2^-8: halfway, even neighbour above
    [InlineData(0xBF808000u, 0xBF80)] // negative ties mirror positive ones
    [InlineData(0xBF818000u, 0xBF82)]
    [InlineData(0x3F808001u, 0x3F81)] // just above halfway
    [InlineData(0x3F807FFFu, 0x3F80)] // just below halfway
    [InlineData(0x3F7FFFFFu, 0x3F80)] // carries into the exponent
    [InlineData(0x00008000u, 0x0000)] // subnormal tie to the even zero
    [InlineData(0x00018000u, 0x0002)] // subnormal tie up
    [InlineData(0x7F7F8000u, 0x7F80)] // the tie above the largest bfloat16 rounds to +∞ (its even neighbour)
    [InlineData(0x7F7F7FFFu, 0x7F7F)] // just below it stays finite
    public void Rounds_to_nearest_even(uint floatBits, int expectedBits) =>
        Assert.Equal((ushort)expectedBits, ((BFloat16)BitConverter.UInt32BitsToSingle(floatBits)).RawValue);

    [Fact]
    public void Rounds_every_float_to_the_nearer_neighbour()
    {
        // Against an independent oracle: the two bfloat16 neighbours of x, compared in double.
        const int seed = 2;
        var random = TestRandom.Create(seed);
        for (int i = 0; i < 200_000; i++)
        {
            float x = BitConverter.UInt32BitsToSingle((uint)random.NextInt64(1L << 32));
            if (!float.IsFinite(x) || Math.Abs(x) >= BitConverter.UInt32BitsToSingle(0x7F7F8000u))
            {
                continue;
            }

            uint truncated = BitConverter.SingleToUInt32Bits(x) >> 16;
            double below = Widen(truncated), above = Widen(truncated + 1);
            double distanceBelow = Math.Abs(x - below), distanceAbove = Math.Abs(above - x);
            uint expected = distanceBelow < distanceAbove ? truncated
                : distanceAbove < distanceBelow ? truncated + 1
                : (truncated & 1) == 0 ? truncated : truncated + 1;
            Assert.True(((BFloat16)x).RawValue == expected, $"{x:R} rounded to 0x{((BFloat16)x).RawValue:X4}, expected 0x{expected:X4} ({TestRandom.Describe(seed)})");
        }
    }

    [Theory]
    [InlineData(0x7FC00000u)] // quiet NaN
    [InlineData(0xFFC00000u)] // negative quiet NaN
    [InlineData(0x7F800001u)] // signalling NaN whose payload is only in the dropped half: must not become ∞
    [InlineData(0xFF800001u)]
    [InlineData(0x7FFFFFFFu)]
    [InlineData(0x7FA00000u)] // signalling NaN with a payload in the kept half
    public void NaN_stays_NaN_with_its_sign(uint floatBits)
    {
        float nan = BitConverter.UInt32BitsToSingle(floatBits);
        var converted = (BFloat16)nan;
        Assert.True(float.IsNaN(converted), $"0x{floatBits:X8} became 0x{converted.RawValue:X4}");
        Assert.Equal(float.IsNegative(nan), float.IsNegative(converted));
    }

    [Fact]
    public void Infinities_and_overflow()
    {
        Assert.Equal(0x7F80, ((BFloat16)float.PositiveInfinity).RawValue);
        Assert.Equal(0xFF80, ((BFloat16)float.NegativeInfinity).RawValue);
        Assert.Equal(float.PositiveInfinity, (float)(BFloat16)float.PositiveInfinity);
        Assert.Equal(float.NegativeInfinity, (float)(BFloat16)float.NegativeInfinity);

        // float.MaxValue is beyond the largest bfloat16 by more than half a unit: round to nearest gives ∞.
        Assert.Equal(float.PositiveInfinity, (float)(BFloat16)float.MaxValue);
        Assert.Equal(float.NegativeInfinity, (float)(BFloat16)float.MinValue);
    }

    [Fact]
    public void Every_bfloat16_round_trips_exactly()
    {
        for (int bits = 0; bits <= ushort.MaxValue; bits++)
        {
            var value = BFloat16.FromRawValue((ushort)bits);
            float widened = value;
            Assert.Equal(BitConverter.UInt32BitsToSingle((uint)bits << 16), widened);
            Assert.Equal(widened, value.ToSingle());
            if (!float.IsNaN(widened))
            {
                Assert.True((BFloat16)widened == value, $"0x{bits:X4} → {widened:R} → 0x{((BFloat16)widened).RawValue:X4}");
            }
        }
    }

    [Fact]
    public void Equality_follows_float()
    {
        var random = TestRandom.Create(3);
        var x = (BFloat16)TestData.Random<float>(random, 1, 100f)[0];
        var same = BFloat16.FromRawValue(x.RawValue);
        var next = BFloat16.FromRawValue((ushort)(x.RawValue + 1));
        Assert.True(x == same);
        Assert.False(x != same);
        Assert.True(x.Equals(same));
        Assert.True(x.Equals((object)same));
        Assert.Equal(x.GetHashCode(), same.GetHashCode());
        Assert.True(x != next);
        Assert.False(x.Equals((object)(float)x));

        // Like float: == is IEEE (+0 equals −0, NaN equals nothing); Equals treats NaN as equal to itself.
        Assert.True((BFloat16)0f == (BFloat16)(-0f));
        Assert.Equal(((BFloat16)0f).GetHashCode(), ((BFloat16)(-0f)).GetHashCode());
        var nan = (BFloat16)float.NaN;
        Assert.False(nan == BFloat16.FromRawValue(nan.RawValue));
        Assert.True(nan != BFloat16.FromRawValue(nan.RawValue));
        Assert.True(nan.Equals(BFloat16.FromRawValue(nan.RawValue)));
    }

    [Theory]
    [InlineData(1.5f, "1.5")]
    [InlineData(-0.25f, "-0.25")]
    [InlineData(3f, "3")]
    public void ToString_is_invariant(float value, string expected) => Assert.Equal(expected, ((BFloat16)value).ToString());

    private static double Widen(uint bits) => BitConverter.UInt32BitsToSingle(bits << 16);
}
