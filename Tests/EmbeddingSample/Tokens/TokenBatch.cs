namespace EmbeddingSample.Tokens;

/// <summary>
/// A batch of tokenised sentences as BERT (and ONNX Runtime) takes them: <c>[Count, Length]</c> int64 ids, attention
/// mask (1 = a real token, 0 = padding) and token types, row-major, each sentence padded on the right to the longest.
/// </summary>
public sealed class TokenBatch
{
    /// <summary>Wraps the three arrays (not copied).</summary>
    /// <param name="count">Sentences B.</param>
    /// <param name="length">Tokens per row L (the longest sentence's).</param>
    /// <param name="inputIds">Token ids, <c>[B, L]</c>.</param>
    /// <param name="attentionMask">1 where a token is real, 0 where it pads, <c>[B, L]</c>.</param>
    /// <param name="tokenTypeIds">Token types (segment ids), <c>[B, L]</c>.</param>
    /// <exception cref="ArgumentException">A size is not positive, an array is not <c>[B, L]</c>, a mask value is not 0 or
    /// 1, or a sentence has no real token.</exception>
    public TokenBatch(int count, int length, long[] inputIds, long[] attentionMask, long[] tokenTypeIds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        ArgumentNullException.ThrowIfNull(inputIds);
        ArgumentNullException.ThrowIfNull(attentionMask);
        ArgumentNullException.ThrowIfNull(tokenTypeIds);
        long elements = (long)count * length;
        RequireLength(inputIds, elements, nameof(inputIds));
        RequireLength(attentionMask, elements, nameof(attentionMask));
        RequireLength(tokenTypeIds, elements, nameof(tokenTypeIds));
        Lengths = new int[count];
        for (int b = 0; b < count; b++)
        {
            var row = attentionMask.AsSpan(b * length, length);
            foreach (long m in row)
            {
                if (m is not (0 or 1))
                {
                    throw new ArgumentException($"attentionMask holds {m} in sentence {b}; expected 0 or 1.", nameof(attentionMask));
                }

                Lengths[b] += (int)m;
            }

            if (Lengths[b] == 0)
            {
                throw new ArgumentException($"Sentence {b} has no real token (its attention mask is all 0).", nameof(attentionMask));
            }

            IsRightPadded &= !row[..Lengths[b]].Contains(0);
        }

        Count = count;
        Length = length;
        InputIds = inputIds;
        AttentionMask = attentionMask;
        TokenTypeIds = tokenTypeIds;
        TokenCount = Lengths.Sum();
    }

    /// <summary>Sentences B.</summary>
    public int Count { get; }

    /// <summary>Tokens per row L.</summary>
    public int Length { get; }

    /// <summary>Token ids, <c>[B, L]</c>.</summary>
    public long[] InputIds { get; }

    /// <summary>1 = real token, 0 = padding, <c>[B, L]</c>.</summary>
    public long[] AttentionMask { get; }

    /// <summary>Token types, <c>[B, L]</c>.</summary>
    public long[] TokenTypeIds { get; }

    /// <summary>Real tokens per sentence, <c>[B]</c>.</summary>
    public int[] Lengths { get; }

    /// <summary>Real tokens in all: the rows the encoder computes.</summary>
    public int TokenCount { get; }

    /// <summary>Whether every sentence's real tokens come first (its mask is ones, then zeros).</summary>
    public bool IsRightPadded { get; } = true;

    /// <summary>Builds a batch from token id sequences: right-padded with id 0, token type 0.</summary>
    /// <param name="sequences">Each sentence's ids, <c>[CLS] … [SEP]</c>.</param>
    /// <returns>The batch.</returns>
    /// <exception cref="ArgumentException">There is no sequence, or one is empty.</exception>
    public static TokenBatch FromSequences(IReadOnlyList<long[]> sequences)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (sequences.Count == 0 || sequences.Any(s => s is not { Length: > 0 }))
        {
            throw new ArgumentException("Expected at least one sequence, none of them empty.", nameof(sequences));
        }

        int count = sequences.Count, length = sequences.Max(s => s.Length);
        var ids = new long[count * length];
        var mask = new long[count * length];
        for (int b = 0; b < count; b++)
        {
            sequences[b].CopyTo(ids, b * length);
            mask.AsSpan(b * length, sequences[b].Length).Fill(1);
        }

        return new TokenBatch(count, length, ids, mask, new long[count * length]);
    }

    private static void RequireLength(long[] array, long expected, string name)
    {
        if (array.Length != expected)
        {
            throw new ArgumentException($"{name} holds {array.Length} values; expected [B, L] = {expected}.", name);
        }
    }
}
