using Attention.Native.Cpu;
using EmbeddingSample.Encoder;
using EmbeddingSample.Tokens;

namespace EmbeddingSample.Tests;

/// <summary>Bad batches are refused with an ArgumentException naming the parameter, before anything runs.</summary>
public sealed class EncoderValidationTests
{
    [Fact]
    public void A_token_id_outside_the_vocabulary_is_refused()
    {
        using var backend = new CpuBackend();
        using var encoder = new SentenceEncoder<float>(backend, MiniLm.Weights);
        var batch = TokenBatch.FromSequences([[101, 30522, 102]]);
        var e = Assert.Throws<ArgumentException>("batch", () => encoder.Encode(batch));
        Assert.Contains("30522", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rows_longer_than_the_positions_are_refused()
    {
        using var backend = new CpuBackend();
        using var encoder = new SentenceEncoder<float>(backend, MiniLm.Weights);
        var batch = TokenBatch.FromSequences([new long[513]]);
        Assert.Throws<ArgumentException>("batch", () => encoder.Encode(batch));
    }

    [Fact]
    public void Token_batches_check_their_arrays()
    {
        Assert.Throws<ArgumentException>("attentionMask", () => new TokenBatch(1, 2, [1, 2], [1, 2], [0, 0]));
        Assert.Throws<ArgumentException>("attentionMask", () => new TokenBatch(1, 2, [1, 2], [0, 0], [0, 0]));
        Assert.Throws<ArgumentException>("inputIds", () => new TokenBatch(1, 2, [1], [1, 1], [0, 0]));
        Assert.Throws<ArgumentException>("sequences", () => TokenBatch.FromSequences([[101], []]));
    }

    [Fact]
    public void A_type_other_than_float_or_half_is_refused()
    {
        using var backend = new CpuBackend();
        Assert.Throws<NotSupportedException>(() => new SentenceEncoder<double>(backend, MiniLm.Weights));
    }
}
