using System.Text;

namespace Attention.Native.Perf.Charts;

/// <summary>
/// Deterministic pseudo-embeddings for the heat map's token case study. A small lexicon maps a token to a concept
/// (我 and I are both "I"); a token's embedding in head h is 0.6 · concept vector + token vector, each a hashed
/// Gaussian vector (FNV-1a of the text, the head and the seed). Tokens that share a concept then attend to each other,
/// which the heat map shows as the translation's alignment; unknown tokens are their own concept.
/// </summary>
internal static class CaseStudy
{
    public const string DefaultQuery = "我 是 一只 狗";
    public const string DefaultKey = "I am a dog";

    private static readonly Dictionary<string, string> Concepts = new(StringComparer.OrdinalIgnoreCase)
    {
        ["我"] = "I", ["i"] = "I", ["me"] = "I",
        ["是"] = "be", ["am"] = "be", ["is"] = "be", ["are"] = "be",
        ["一只"] = "a", ["一个"] = "a", ["一"] = "a", ["a"] = "a", ["an"] = "a", ["one"] = "a",
        ["狗"] = "dog", ["dog"] = "dog",
        ["猫"] = "cat", ["cat"] = "cat",
        ["你"] = "you", ["you"] = "you",
    };

    /// <summary>Pinyin of the lexicon's Chinese tokens: the labels when no CJK font is available.</summary>
    private static readonly Dictionary<string, (string Marked, string Plain)> Pinyin = new(StringComparer.Ordinal)
    {
        ["我"] = ("wǒ", "wo3"), ["是"] = ("shì", "shi4"), ["一只"] = ("yì zhī", "yi4 zhi1"), ["一个"] = ("yí gè", "yi2 ge4"),
        ["一"] = ("yī", "yi1"), ["狗"] = ("gǒu", "gou3"), ["猫"] = ("māo", "mao1"), ["你"] = ("nǐ", "ni3"),
    };

    /// <summary>Embeddings <c>[heads, tokens, dim]</c> (BHSD with batch 1) of the tokens.</summary>
    public static float[] Embed(IReadOnlyList<string> tokens, int heads, int dim, int seed)
    {
        var values = new float[heads * tokens.Count * dim];
        for (int h = 0; h < heads; h++)
        {
            for (int t = 0; t < tokens.Count; t++)
            {
                string concept = Concepts.TryGetValue(tokens[t], out string? c) ? c : tokens[t];
                var conceptVector = Gaussian(Hash($"concept:{concept}", h, seed), dim);
                var tokenVector = Gaussian(Hash($"token:{tokens[t]}", h, seed), dim);
                for (int d = 0; d < dim; d++)
                {
                    values[(((h * tokens.Count) + t) * dim) + d] = (0.6f * conceptVector[d]) + (0.25f * tokenVector[d]);
                }
            }
        }

        return values;
    }

    /// <summary>Whether a token has characters outside Latin, Greek and Cyrillic (CJK and the like).</summary>
    public static bool NeedsCjk(string token) => token.Any(ch => ch > '\u2E7F');

    /// <summary>A label for a token when no CJK font is available: pinyin (with tone marks when the font has them),
    /// else the token's index.</summary>
    public static string Transliterate(string token, int index, bool toneMarks) =>
        Pinyin.TryGetValue(token, out var pinyin) ? (toneMarks ? pinyin.Marked : pinyin.Plain) : $"#{index}";

    private static ulong Hash(string text, int head, int seed)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes($"{text}|{head}|{seed}"))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return hash;
    }

    private static float[] Gaussian(ulong hash, int dim)
    {
        var random = new Random((int)(hash ^ (hash >> 32)));
        var vector = new float[dim];
        for (int d = 0; d < dim; d++)
        {
            // Box-Muller: one standard normal per draw.
            double u = 1.0 - random.NextDouble(), v = random.NextDouble();
            vector[d] = (float)(Math.Sqrt(-2.0 * Math.Log(u)) * Math.Cos(2.0 * Math.PI * v));
        }

        return vector;
    }
}
