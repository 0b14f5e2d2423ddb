using System.Globalization;
using System.Text;
using Spectre.Console;

namespace Attention.Native.Perf.Gemm;

/// <summary>The <c>gemm</c> command's table: on the console, as Markdown and as CSV.</summary>
internal static class GemmReport
{
    private static readonly string[] Headers =
        ["shape", "m", "n", "k", "op", "variant", "threads", "ms", "GFLOP/s", "FMA peak GFLOP/s", "% of peak", "rel. error"];

    public static void WriteConsole(IReadOnlyList<GemmRow> rows)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (string header in Headers)
        {
            table.AddColumn(new TableColumn(header).RightAligned());
        }

        foreach (var row in rows)
        {
            string[] cells = Cells(row);
            if (!row.Passes)
            {
                cells[^1] = $"[red]{cells[^1]}[/]";
            }

            table.AddRow([.. cells.Select((c, i) => i == cells.Length - 1 ? c : Markup.Escape(c))]);
        }

        AnsiConsole.Write(table);
    }

    public static string Markdown(IReadOnlyList<GemmRow> rows, IEnumerable<string> notes)
    {
        var text = new StringBuilder();
        text.AppendLine("# CPU SGEMM (`gemm`)").AppendLine();
        foreach (string note in notes)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- {note}");
        }

        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"| {string.Join(" | ", Headers)} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"|{string.Concat(Headers.Select((_, i) => i == 0 ? "---|" : "---:|"))}");
        foreach (var row in rows)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {string.Join(" | ", Cells(row))} |");
        }

        return text.ToString();
    }

    public static string Csv(IReadOnlyList<GemmRow> rows)
    {
        var text = new StringBuilder();
        text.AppendLine("shape,m,n,k,transpose_a,transpose_b,variant,threads,ms,gflops,peak_gflops,of_peak,relative_error");
        foreach (var r in rows)
        {
            text.AppendLine(Device.Csv.Line(r.Shape.Name, r.Shape.M, r.Shape.N, r.Shape.K, r.Shape.TransposeA, r.Shape.TransposeB,
                r.Variant, r.Threads, r.Milliseconds, r.Gflops, r.PeakGflops, r.OfPeak, r.RelativeError));
        }

        return text.ToString();
    }

    private static string[] Cells(GemmRow row)
    {
        var s = row.Shape;
        string op = $"{(s.TransposeA ? "Aᵀ" : "A")}·{(s.TransposeB ? "Bᵀ" : "B")}";
        return
        [
            s.Name, Number(s.M), Number(s.N), Number(s.K), op, row.Variant, Number(row.Threads),
            row.Milliseconds.ToString("F2", CultureInfo.InvariantCulture),
            row.Gflops.ToString("F1", CultureInfo.InvariantCulture),
            row.PeakGflops.ToString("F1", CultureInfo.InvariantCulture),
            row.OfPeak.ToString("P1", CultureInfo.InvariantCulture),
            row.RelativeError.ToString("0.0E+0", CultureInfo.InvariantCulture),
        ];
    }

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
}
