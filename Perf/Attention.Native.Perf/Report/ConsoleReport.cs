using Attention.Native.Perf.Compare;
using Attention.Native.Perf.Limits;
using Spectre.Console;

namespace Attention.Native.Perf.Report;

/// <summary>Writes the machine's limits and the compare table to the console.</summary>
internal static class ConsoleReport
{
    /// <summary>Writes one table of limits with a column pair per labelled measurement.</summary>
    public static void WriteLimits(params (string Label, MachineLimits Limits)[] sets)
    {
        var table = new Table();
        foreach (string header in LimitCells.Headers(sets))
        {
            table.AddColumn(new TableColumn(Markup.Escape(header)).RightAligned());
        }

        foreach (string[] row in LimitCells.Rows(sets))
        {
            table.AddRow(row);
        }

        AnsiConsole.Write(table);
    }

    /// <summary>How the limits were measured, for the line above their table.</summary>
    public static string LimitsCaption =>
        $"Machine limits, best of several tries: FMA peak = register-only loop of {FmaPeak.Accumulators} independent " +
        $"{FmaPeak.VectorName} FMA chains per thread; read = {MachineLimits.BandwidthBytes >> 20} MiB summed by all threads. " +
        "CPU decode rows are held to a paired read instead (\"paired read\"): each timed run follows a read of at least " +
        $"{PairedRead.MinBytes >> 20} MiB by as many threads, and the fraction is the median over runs of the kernel's GB/s over that read's.";

    public static void WriteRows(IReadOnlyList<CompareRow> rows, MachineLimits limits)
    {
        var table = new Table().Title("Attention (BHSD, -bshd: BSHD; median of timed runs; error vs float64 on the same inputs)");
        var headers = RowCells.HeadersFor(rows);
        for (int c = 0; c < headers.Count; c++)
        {
            var column = new TableColumn(Markup.Escape(headers[c]));
            table.AddColumn(RowCells.IsNumeric(c) ? column.RightAligned() : column);
        }

        foreach (var row in rows)
        {
            var cells = RowCells.Of(row, limits, headers).Select(Markup.Escape).ToArray();
            if (!row.Passes)
            {
                cells[RowCells.ErrorColumn] = $"[red]{cells[RowCells.ErrorColumn]} FAIL[/]";
            }

            table.AddRow(cells);
        }

        AnsiConsole.Write(table);
    }

    /// <summary>The peers' summary (<see cref="PeerCells"/>); nothing when no peer ran.</summary>
    public static void WritePeers(IReadOnlyList<CompareRow> rows)
    {
        if (PeerCells.Peers(rows).Count == 0)
        {
            return;
        }

        var table = new Table().Title(Markup.Escape(PeerCells.Caption));
        var headers = PeerCells.Headers(rows);
        for (int c = 0; c < headers.Count; c++)
        {
            var column = new TableColumn(Markup.Escape(headers[c]));
            table.AddColumn(PeerCells.IsNumeric(c) ? column.RightAligned() : column);
        }

        foreach (string[] cells in PeerCells.Rows(rows))
        {
            table.AddRow(cells.Select(Markup.Escape).ToArray());
        }

        AnsiConsole.Write(table);
    }
}
