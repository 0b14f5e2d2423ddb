using Attention.Native.Cpu;
using EmbeddingSample.Encoder;
using EmbeddingSample.Tokens;

namespace EmbeddingSample.Tests;

/// <summary>
/// The sample's embeddings against ONNX Runtime's on the same model.onnx and the same token ids: cosine ≥ 0.99999 and
/// max |diff| ≤ 1e-4 for every sentence in float (the bar), in batches that pad most rows.
/// </summary>
public sealed class OrtEqualityTests
{
    /// <summary>All 56 sentences, shuffled (fixed seed) into batches of 1, 7, 16 and 32: every batch but the first
    /// pads, the longest rows are cut at 256 tokens.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Cpu_float_embeddings_equal_onnx_runtime(int threads)
    {
        Assert.True(TestSentences.All.Count >= 50);
        var order = TestSentences.All.ToArray();
        new Random(17).Shuffle(order);
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = threads });
        using var encoder = new SentenceEncoder<float>(backend, MiniLm.Weights);
        int first = 0;
        foreach (int size in (int[])[1, 7, 16, 32])
        {
            var batch = MiniLm.Tokenizer.Encode(order[first..(first + size)]);
            Assert.True(size == 1 || batch.TokenCount < batch.Count * batch.Length, "the batch should pad some rows");
            AssertEqual(encoder.Encode(batch), MiniLm.Reference(batch), EmbeddingComparison.FloatTolerance, $"batch of {size} from sentence {first}");
            first += size;
        }

        Assert.Equal(TestSentences.All.Count, first);
    }

    /// <summary>Real tokens not first in their rows (left padding, a hole): the layer takes the mask as KeyPadding,
    /// and position ids stay the row index, as in the graph.</summary>
    [Fact]
    public void A_mask_that_is_not_right_padding_matches_onnx_runtime()
    {
        long[][] sentences = [.. new[] { "A man is playing a guitar.", "Rain.", "The quick brown fox jumps over the lazy dog." }.Select(s => MiniLm.Tokenizer.Tokens(s))];
        int length = sentences.Max(s => s.Length) + 2;
        var ids = new long[3 * length];
        var mask = new long[3 * length];
        for (int b = 0; b < 3; b++)
        {
            // Row 0 left-padded, row 1 with a padded hole after [CLS], row 2 right-padded.
            int at = b == 0 ? length - sentences[0].Length : 0;
            for (int i = 0; i < sentences[b].Length; i++)
            {
                int position = b == 1 && i > 0 ? i + 2 : at + i;
                ids[(b * length) + position] = sentences[b][i];
                mask[(b * length) + position] = 1;
            }
        }

        var batch = new TokenBatch(3, length, ids, mask, new long[3 * length]);
        Assert.False(batch.IsRightPadded);
        using var backend = new CpuBackend();
        using var encoder = new SentenceEncoder<float>(backend, MiniLm.Weights);
        AssertEqual(encoder.Encode(batch), MiniLm.Reference(batch), EmbeddingComparison.FloatTolerance, "left-padded and holed rows");
    }

    /// <summary>Half weights and activations on the CPU backend (its Half layers), within the Half bar.</summary>
    [Fact]
    public void Cpu_half_embeddings_are_close_to_onnx_runtime()
    {
        var batch = MiniLm.Tokenizer.Encode(TestSentences.All.Take(12).ToArray());
        using var backend = new CpuBackend();
        using var encoder = new SentenceEncoder<Half>(backend, MiniLm.Weights);
        AssertEqual(encoder.Encode(batch), MiniLm.Reference(batch), EmbeddingComparison.HalfTolerance, "Half");
    }

    /// <summary>The encoder's buffers carry nothing from one call to the next: a batch encoded after a longer one, and
    /// alone, gives the same embeddings.</summary>
    [Fact]
    public void Results_do_not_depend_on_the_previous_call()
    {
        using var backend = new CpuBackend();
        using var encoder = new SentenceEncoder<float>(backend, MiniLm.Weights);
        var small = MiniLm.Tokenizer.Encode(["Rain.", "A cat sits on the mat."]);
        float[] alone = encoder.Encode(small);
        _ = encoder.Encode(MiniLm.Tokenizer.Encode(TestSentences.All.TakeLast(5).ToArray()));
        Assert.Equal(alone, encoder.Encode(small));
    }

    internal static void AssertEqual(float[] ours, float[] reference, EmbeddingComparison tolerance, string what)
    {
        var found = EmbeddingComparison.Of(ours, reference, MiniLm.Weights.Config.Hidden);
        Assert.True(found.IsWithin(tolerance), $"{what}: {found}; expected {tolerance.AsTolerance()}");
    }
}
