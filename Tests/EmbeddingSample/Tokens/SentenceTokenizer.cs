using EmbeddingSample.Model;
using FastBertTokenizer;

namespace EmbeddingSample.Tokens;

/// <summary>
/// all-MiniLM-L6-v2's tokenizer: FastBertTokenizer's WordPiece (lower-cased, accents stripped, as BERT uncased) on the
/// model's own <c>vocab.txt</c>, truncating as sentence-transformers does at the model's 256 tokens. Calls from several
/// threads take turns: FastBertTokenizer keeps working buffers in the instance.
/// </summary>
public sealed class SentenceTokenizer
{
    /// <summary>sentence-transformers' <c>max_seq_length</c> for all-MiniLM-L6-v2: longer inputs are cut to it.</summary>
    public const int DefaultMaximumTokens = 256;

    private readonly BertTokenizer tokenizer = new();
    private readonly Lock gate = new();

    /// <summary>Loads the vocabulary from <see cref="MiniLmPackage"/>.</summary>
    public SentenceTokenizer()
    {
        using var reader = new StreamReader(MiniLmPackage.OpenVocabulary());
        tokenizer.LoadVocabulary(reader, convertInputToLowercase: true);
    }

    /// <summary>Tokenises <paramref name="sentences"/> into one right-padded batch.</summary>
    /// <param name="sentences">The texts.</param>
    /// <param name="maximumTokens">Tokens per sentence at most, <c>[CLS]</c> and <c>[SEP]</c> included.</param>
    /// <returns>The batch.</returns>
    /// <exception cref="ArgumentException">There is no sentence, or <paramref name="maximumTokens"/> is below 2.</exception>
    public TokenBatch Encode(IReadOnlyList<string> sentences, int maximumTokens = DefaultMaximumTokens)
    {
        ArgumentNullException.ThrowIfNull(sentences);
        ArgumentOutOfRangeException.ThrowIfLessThan(maximumTokens, 2);
        return TokenBatch.FromSequences([.. sentences.Select(s => Tokens(s, maximumTokens))]);
    }

    /// <summary>One sentence's ids, <c>[CLS] … [SEP]</c>.</summary>
    /// <param name="sentence">The text.</param>
    /// <param name="maximumTokens">Tokens at most.</param>
    /// <returns>The ids.</returns>
    public long[] Tokens(string sentence, int maximumTokens = DefaultMaximumTokens)
    {
        ArgumentNullException.ThrowIfNull(sentence);
        lock (gate)
        {
            var (ids, _, _) = tokenizer.Encode(sentence, maximumTokens);
            return ids.ToArray();
        }
    }
}
