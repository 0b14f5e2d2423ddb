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

    /// <summary>The extra column of peers' rows: <see cref="CompareRow.OursOverPeer"/>.</summary>
    public const string PeerHeader = "ours/peer";

    /// <summary>The extra column of BSHD rows: <see cref="CompareRow.BshdOverBhsd"/>.</summary>
    public const string LayoutHeader = "bshd/bhsd";

    /// <summary>The extra column of paged rows: <see cref="CompareRow.PagedOverContiguous"/>.</summary>
    public const string PagedHeader = "paged/contig";

    /// <summary>Columns holding numbers, right-aligned (the optional columns after the fixed ones are all numbers).</summary>
    public static bool IsNumeric(int column) => column is (>= 6 and <= ErrorColumn) or > ErrorColumn + 1;

    /// <summary>Whether the table needs the <see cref="SpeedupHeader"/> column: only when a GPU row was measured.</summary>
    public static bool HasSpeedup(IEnumerable<CompareRow> rows) => rows.Any(r => !double.IsNaN(r.SpeedupOverCpu));

    /// <summary>The fixed columns, then <see cref="SpeedupHeader"/> when a GPU row was measured and
    /// <see cref="PeerHeader"/> when a peer was, <see cref="LayoutHeader"/> when a BSHD case and its BHSD twin were.</summary>
    public static IReadOnlyList<string> HeadersFor(IReadOnlyList<CompareRow> rows) =>
    [
        .. Headers,
        .. HasSpeedup(rows) ? [SpeedupHeader] : Array.Empty<string>(),
        .. rows.Any(r => r.Peer is not null) ? [PeerHeader] : Array.Empty<string>(),
        .. rows.Any(r => !double.IsNaN(r.BshdOverBhsd)) ? [LayoutHeader] : Array.Empty<string>(),
        .. rows.Any(r => !double.IsNaN(r.PagedOverContiguous)) ? [PagedHeader] : Array.Empty<string>(),
    ];

    /// <summary>The cells under <paramref name="headers"/> (<see cref="HeadersFor"/>).</summary>
    public static string[] Of(CompareRow row, MachineLimits limits, IReadOnlyList<string> headers) =>
    [
        .. Of(row, limits),
        .. headers.Contains(SpeedupHeader) ? [Ratio(row.SpeedupOverCpu, "F1")] : Array.Empty<string>(),
        .. headers.Contains(PeerHeader) ? [Ratio(row.OursOverPeer, "F2")] : Array.Empty<string>(),
        .. headers.Contains(LayoutHeader) ? [Ratio(row.BshdOverBhsd, "F2")] : Array.Empty<string>(),
        .. headers.Contains(PagedHeader) ? [Ratio(row.PagedOverContiguous, "F2")] : Array.Empty<string>(),
    ];

    public static string[] Of(CompareRow row, MachineLimits limits) =>
    [
        row.Case.Name,
        row.Case.Mask,
        row.BackendName,
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

    /// <summary><c>1.23x</c>, or <c>-</c> for NaN.</summary>
    public static string Ratio(double value, string format) => double.IsNaN(value) ? "-" : $"{Number(value, format)}x";

    public static string Number(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    public static string Number(int value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
