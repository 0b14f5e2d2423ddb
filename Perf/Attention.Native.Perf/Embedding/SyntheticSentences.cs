using EmbeddingSample.Model;
using EmbeddingSample.Tokens;

namespace Attention.Native.Perf.Embedding;

/// <summary>
/// Sentences of an exact token count: random lower-case whole words of the model's vocabulary (one token each), joined
/// by spaces, so that the tokenizer's output is <c>[CLS]</c>, one id a word, <c>[SEP]</c>. Both engines embed the ids
/// the tokenizer gives; the texts also time the tokenizer itself.
/// </summary>
internal sealed class SyntheticSentences
{
    private readonly string[] words;
    private readonly SentenceTokenizer tokenizer = new();

    public SyntheticSentences()
    {
        using var reader = new StreamReader(MiniLmPackage.OpenVocabulary());
        words = [.. ReadLines(reader).Where(w => w.Length >= 3 && w.All(char.IsAsciiLetterLower))];
    }

    public SentenceTokenizer Tokenizer => tokenizer;

    /// <summary>One text per length, each tokenising to exactly that many tokens.</summary>
    public string[] Texts(IReadOnlyList<int> lengths, Random random) =>
        [.. lengths.Select(n => string.Join(' ', Enumerable.Range(0, n - 2).Select(_ => words[random.Next(words.Length)])))];

    /// <summary>The texts tokenised into one batch; throws when a text does not give its intended length.</summary>
    public TokenBatch Batch(IReadOnlyList<string> texts, IReadOnlyList<int> lengths)
    {
        var batch = tokenizer.Encode(texts, EmbedCase.MixedMax);
        for (int b = 0; b < lengths.Count; b++)
        {
            if (batch.Lengths[b] != lengths[b])
            {
                throw new InvalidOperationException($"Sentence {b} tokenised to {batch.Lengths[b]} tokens, not {lengths[b]}.");
            }
        }

        return batch;
    }

    private static IEnumerable<string> ReadLines(StreamReader reader)
    {
        while (reader.ReadLine() is { } line)
        {
            yield return line;
        }
    }
}
