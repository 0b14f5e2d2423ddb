using Attention.Native.Perf.Limits;

namespace Attention.Native.Perf.Report;

/// <summary>The limits table: one row per thread count, an FMA-peak and a read column per labelled measurement.</summary>
internal static class LimitCells
{
    public static string[] Headers(IReadOnlyList<(string Label, MachineLimits Limits)> sets) =>
        ["threads", .. sets.Select(s => $"FMA peak GFLOP/s{Suffix(s.Label)}"), .. sets.Select(s => $"read GB/s{Suffix(s.Label)}")];

    public static IEnumerable<string[]> Rows(IReadOnlyList<(string Label, MachineLimits Limits)> sets) =>
        sets[0].Limits.ThreadCounts.Select(t => (string[])
        [
            RowCells.Number(t, "D"),
            .. sets.Select(s => RowCells.Number(s.Limits.FmaPeak(t), "F1")),
            .. sets.Select(s => RowCells.Number(s.Limits.Bandwidth(t), "F1")),
        ]);

    private static string Suffix(string label) => label.Length == 0 ? string.Empty : $" {label}";
}
