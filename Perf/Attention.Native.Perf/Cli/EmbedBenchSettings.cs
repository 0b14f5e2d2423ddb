using System.ComponentModel;
using System.Globalization;
using Attention.Native.Perf.Embedding;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Attention.Native.Perf.Cli;

/// <summary>Options of the <c>embed-bench</c> command.</summary>
internal sealed class EmbedBenchSettings : CommandSettings
{
    [CommandOption("--threads <LIST>")]
    [Description("Comma-separated CPU thread counts, each for both engines, e.g. 1,2.")]
    [DefaultValue("1,2")]
    public string Threads { get; init; } = "1,2";

    [CommandOption("--batches <LIST>")]
    [Description("Comma-separated sentences per call, e.g. 1,8,64.")]
    [DefaultValue("1,8,64")]
    public string Batches { get; init; } = "1,8,64";

    [CommandOption("--tokens <LIST>")]
    [Description("Comma-separated tokens per sentence ([[CLS]] and [[SEP]] included, 3 to 256), or mixed: lengths drawn evenly from 16 to 256 (a batch that pads).")]
    [DefaultValue("16,64,256,mixed")]
    public string Tokens { get; init; } = "16,64,256,mixed";

    [CommandOption("--quick")]
    [Description("Fewer warm-ups and timed rounds (CI, tests).")]
    public bool Quick { get; init; }

    [CommandOption("--out <DIR>")]
    [Description("Folder for embed-bench.md, embed-bench.csv, embed-throughput.png and embed-ratio.png; default artifacts/perf/embed-<yyyyMMdd-HHmmss>.")]
    public string? Out { get; init; }

    [CommandOption("--seed <N>")]
    [Description("Seed of the sentences' words and mixed lengths.")]
    [DefaultValue(1)]
    public int Seed { get; init; } = 1;

    public string OutputFolder => Out ?? defaultFolder;

    private readonly string defaultFolder =
        Path.Combine("artifacts", "perf", "embed-" + DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));

    public IReadOnlyList<int> ThreadCounts => CompareSettings.ParseThreads(Threads) ?? [];

    /// <summary>Every batch with every token count, batches outermost (valid once <see cref="Validate"/> passed).</summary>
    public IReadOnlyList<EmbedCase> Cases =>
        [.. (ParseCounts(Batches, 1, 4096) ?? []).SelectMany(b => (ParseTokens(Tokens) ?? []).Select(t => new EmbedCase(b, t)))];

    public override ValidationResult Validate()
    {
        if (ParseThreads())
        {
            return ValidationResult.Error($"--threads: expected comma-separated counts from 1 to 1024, got '{Threads}'.");
        }

        if (ParseCounts(Batches, 1, 4096) is not { Count: > 0 })
        {
            return ValidationResult.Error($"--batches: expected comma-separated counts from 1 to 4096, got '{Batches}'.");
        }

        return ParseTokens(Tokens) is { Count: > 0 } ? ValidationResult.Success()
            : ValidationResult.Error($"--tokens: expected comma-separated counts from 3 to {EmbedCase.MixedMax}, or mixed, got '{Tokens}'.");
    }

    private bool ParseThreads() => CompareSettings.ParseThreads(Threads) is null;

    private static List<int>? ParseCounts(string text, int min, int max)
    {
        var counts = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < min || n > max)
            {
                return null;
            }

            if (!counts.Contains(n))
            {
                counts.Add(n);
            }
        }

        return counts;
    }

    /// <summary>Token counts, with null for <c>mixed</c>; null when one does not parse.</summary>
    private static List<int?>? ParseTokens(string text)
    {
        var tokens = new List<int?>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            int? item = part.Equals("mixed", StringComparison.OrdinalIgnoreCase) ? null
                : ParseCounts(part, 3, EmbedCase.MixedMax) is [int n] ? n
                : -1;
            if (item == -1)
            {
                return null;
            }

            if (!tokens.Contains(item))
            {
                tokens.Add(item);
            }
        }

        return tokens;
    }
}
