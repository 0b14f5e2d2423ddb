namespace Attention.Native.Tests.Cuda;

/// <summary>The tests' e4m3fn encoder and decoder (<see cref="Float8E4M3"/>) against codes worked out by hand.</summary>
public sealed class Float8E4M3Tests
{
    [Theory]
    [InlineData(0f, 0x00)]
    [InlineData(1f, 0x38)]
    [InlineData(-1.5f, 0xBC)]
    [InlineData(448f, 0x7E)]
    [InlineData(240f, 0x77)]
    [InlineData(0.001953125f, 0x01)] // 2^−9, the smallest subnormal
    [InlineData(0.013671875f, 0x07)] // 7 · 2^−9, the largest subnormal
    [InlineData(0.015625f, 0x08)] // 2^−6, the smallest normal
    [InlineData(0.0029296875f, 0x02)] // 1.5 · 2^−9: a tie, to the even 2 · 2^−9
    [InlineData(1.0625f, 0x38)] // between 1 and 1.125: a tie, to the even 1
    [InlineData(1.1875f, 0x3A)] // between 1.125 and 1.25: a tie, to the even 1.25
    [InlineData(1.07f, 0x39)] // nearer 1.125
    [InlineData(0.0146484375f, 0x08)] // 7.5 · 2^−9: a tie between the last subnormal and 2^−6, to the even 2^−6
    [InlineData(1000f, 0x7E)] // saturates
    [InlineData(-1000f, 0xFE)]
    [InlineData(464f, 0x7E)]
    [InlineData(0.0009765625f, 0x00)] // 2^−10: a tie between 0 and 2^−9, to the even 0
    public void Encodes_known_values(float value, int code)
    {
        Assert.Equal((byte)code, Float8E4M3.Encode(value));
    }

    [Fact]
    public void Every_finite_code_round_trips_and_0x7F_is_nan()
    {
        for (int code = 0; code < 256; code++)
        {
            float value = Float8E4M3.Decode((byte)code);
            if ((code & 0x7F) == 0x7F)
            {
                Assert.True(float.IsNaN(value), $"code {code:X2}");
                continue;
            }

            Assert.Equal((byte)code, Float8E4M3.Encode(value));
        }

        Assert.Equal(448f, Float8E4M3.Decode(0x7E));
        Assert.Equal(-0.001953125f, Float8E4M3.Decode(0x81));
    }
}
