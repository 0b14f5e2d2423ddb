using Attention.Native.Perf.Compare;
using Attention.Native.Perf.Limits;
using Spectre.Console;

namespace Attention.Native.Perf.Report;

/// <summary>Writes the machine's limits and the compare table to the console.</summary>
internal static class ConsoleReport
{
    public static void WriteLimits(MachineLimits limits)
    {
        AnsiConsole.WriteLine(LimitsCaption(limits));
        var table = new Table();
        table.AddColumns("threads", "FMA peak GFLOP/s", "read GB/s");
        foreach (int t in limits.ThreadCounts)
        {
            table.AddRow(RowCells.Number(t, "D"), RowCells.Number(limits.FmaPeak(t), "F1"), RowCells.Number(limits.Bandwidth(t), "F1"));
        }

        AnsiConsole.Write(table);
    }

    /// <summary>How the limits were measured, for the line above their table.</summary>
    public static string LimitsCaption(MachineLimits limits) =>
        $"Machine limits, best of several tries: FMA peak = register-only loop of {FmaPeak.Accumulators} independent " +
        $"{limits.VectorName} FMA chains per thread; read = {MachineLimits.BandwidthBytes >> 20} MiB summed by all threads.";

    public static void WriteRows(IReadOnlyList<CompareRow> rows)
    {
        var table = new Table().Title("Attention (fp32, BHSD; median of timed runs)");
        for (int c = 0; c < RowCells.Headers.Count; c++)
        {
            var column = new TableColumn(Markup.Escape(RowCells.Headers[c]));
            table.AddColumn(RowCells.IsNumeric(c) ? column.RightAligned() : column);
        }

        foreach (var row in rows)
        {
            var cells = RowCells.Of(row).Select(Markup.Escape).ToArray();
            if (!row.Passes)
            {
                cells[9] = $"[red]{cells[9]} FAIL[/]";
            }

            table.AddRow(cells);
        }

        AnsiConsole.Write(table);
    }
}
