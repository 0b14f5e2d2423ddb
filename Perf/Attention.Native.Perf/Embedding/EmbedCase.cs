using System.Globalization;

namespace Attention.Native.Perf.Embedding;

/// <summary>One row of embed-bench: a batch of sentences, all of <see cref="Tokens"/> tokens or of mixed lengths.</summary>
/// <param name="Batch">Sentences per call.</param>
/// <param name="Tokens">Tokens per sentence, [CLS] and [SEP] included; null for lengths drawn evenly from
/// <see cref="MixedMin"/> to <see cref="MixedMax"/> (a batch that pads).</param>
internal sealed record EmbedCase(int Batch, int? Tokens)
{
    public const int MixedMin = 16;
    public const int MixedMax = 256;

    /// <summary>E.g. <c>8 × 64</c> or <c>8 × 16–256</c>.</summary>
    public string Label => $"{Batch} × {TokensLabel}";

    public string TokensLabel => Tokens is { } t ? t.ToString(CultureInfo.InvariantCulture) : $"{MixedMin}–{MixedMax}";

    /// <summary>The token count of each sentence of this case's batch, drawn from <paramref name="random"/> when mixed.</summary>
    public int[] Lengths(Random random) =>
        [.. Enumerable.Range(0, Batch).Select(_ => Tokens ?? random.Next(MixedMin, MixedMax + 1))];
}
