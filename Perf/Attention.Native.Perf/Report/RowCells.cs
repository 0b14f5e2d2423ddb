using System.Globalization;
using Attention.Native.Perf.Compare;
using Attention.Native.Perf.Limits;

namespace Attention.Native.Perf.Report;

/// <summary>The compare table's columns and how each row reads in them: shared by the console and Markdown tables.</summary>
internal static class RowCells
{
    public static IReadOnlyList<string> Headers { get; } =
        ["shape", "mask", "backend", "variant", "kernel", "dtype", "threads", "ms", "GFLOP/s", "GB/s", "of limit", "rel. error", "error checked on"];

    /// <summary>The index of the <c>rel. error</c> column, which the tables mark when a row fails.</summary>
    public const int ErrorColumn = 11;

    /// <summary>The extra column of GPU rows: their speed-up over the best CPU row of the same case.</summary>
    public const string SpeedupHeader = "vs best CPU";

    /// <summary>Columns holding numbers, right-aligned.</summary>
    public static bool IsNumeric(int column) => column is (>= 6 and <= ErrorColumn) or 13;

    /// <summary>Whether the table needs the <see cref="SpeedupHeader"/> column: only when a GPU row was measured.</summary>
    public static bool HasSpeedup(IEnumerable<CompareRow> rows) => rows.Any(r => !double.IsNaN(r.SpeedupOverCpu));

    public static IReadOnlyList<string> HeadersFor(IReadOnlyList<CompareRow> rows) =>
        HasSpeedup(rows) ? [.. Headers, SpeedupHeader] : Headers;

    /// <summary>The cells, with the speed-up column when <paramref name="withSpeedup"/>.</summary>
    public static string[] Of(CompareRow row, MachineLimits limits, bool withSpeedup) =>
        withSpeedup
            ? [.. Of(row, limits), double.IsNaN(row.SpeedupOverCpu) ? "-" : $"{Number(row.SpeedupOverCpu, "F1")}x"]
            : Of(row, limits);

    public static string[] Of(CompareRow row, MachineLimits limits) =>
    [
        row.Case.Name,
        row.Case.Mask,
        row.Backend.ToString(),
        row.Variant,
        row.Kernel,
        row.Dtype.Name(),
        row.Threads > 0 ? Number(row.Threads, "D") : "-",
        Number(row.Milliseconds, row.Milliseconds < 10 ? "F3" : "F1"),
        Number(row.Gflops, "F1"),
        double.IsNaN(row.Gbps) ? "-" : Number(row.Gbps, "F1"),
        double.IsNaN(row.LimitFraction(limits)) ? "-" : $"{Number(row.LimitFraction(limits) * 100, "F0")}% {row.LimitKind}",
        Number(row.RelativeError, "0.0E+0"),
        row.ErrorScope,
    ];

    public static string Number(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    public static string Number(int value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
