using System.ComponentModel;
using System.Globalization;
using Attention.Native.Perf.Workloads;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Attention.Native.Perf.Cli;

/// <summary>Options of the <c>compare</c> command.</summary>
internal sealed class CompareSettings : CommandSettings
{
    [CommandOption("--threads <LIST>")]
    [Description("Comma-separated CPU thread counts, e.g. 1,2.")]
    [DefaultValue("1,2")]
    public string Threads { get; init; } = "1,2";

    [CommandOption("--shapes <FILTER>")]
    [Description("Comma-separated substrings; keeps the shapes whose name (plus \" causal\") contains one, e.g. decode,causal.")]
    public string? Shapes { get; init; }

    [CommandOption("--quick")]
    [Description("Fewer warm-ups and timed runs (CI, tests).")]
    public bool Quick { get; init; }

    [CommandOption("--out <DIR>")]
    [Description("Folder for compare.md, compare.csv, throughput.png and speedup.png; default artifacts/perf/<yyyyMMdd-HHmmss>.")]
    public string? Out { get; init; }

    /// <summary><see cref="Out"/>, else a new time-stamped folder under <c>artifacts/perf</c>.</summary>
    public string OutputFolder => Out ?? defaultFolder;

    private readonly string defaultFolder =
        Path.Combine("artifacts", "perf", DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));

    [CommandOption("--seed <N>")]
    [Description("Seed of the random operands; random when omitted (it is printed).")]
    public int? Seed { get; init; }

    /// <summary>The parsed thread counts, in the order given (valid once <see cref="Validate"/> passed).</summary>
    public IReadOnlyList<int> ThreadCounts => ParseThreads(Threads) ?? [];

    public IReadOnlyList<PerfCase> Cases => PerfCatalog.Filter(Shapes);

    public override ValidationResult Validate()
    {
        if (ParseThreads(Threads) is null)
        {
            return ValidationResult.Error($"--threads: expected comma-separated counts from 1 to 1024, got '{Threads}'.");
        }

        if (Cases.Count == 0)
        {
            string names = string.Join(", ", PerfCatalog.All.Select(c => c.Name).Distinct());
            return ValidationResult.Error($"--shapes: '{Shapes}' matches no shape. Shapes: {names}.");
        }

        return ValidationResult.Success();
    }

    private static List<int>? ParseThreads(string text)
    {
        var counts = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int count) || count is < 1 or > 1024)
            {
                return null;
            }

            if (!counts.Contains(count))
            {
                counts.Add(count);
            }
        }

        return counts;
    }
}
