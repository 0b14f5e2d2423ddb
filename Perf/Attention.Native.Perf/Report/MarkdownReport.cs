using System.Text;
using Attention.Native.Perf.Compare;
using Attention.Native.Perf.Limits;

namespace Attention.Native.Perf.Report;

/// <summary>The compare results as a Markdown document: the machine's limits, then the table.</summary>
internal static class MarkdownReport
{
    /// <param name="limits">The machine's measured limits.</param>
    /// <param name="rows">The results.</param>
    /// <param name="notes">Lines for the top: machine, load, operands.</param>
    public static string Render(MachineLimits limits, IReadOnlyList<CompareRow> rows, IEnumerable<string> notes)
    {
        var text = new StringBuilder();
        text.AppendLine("# Attention.Native compare").AppendLine();
        foreach (string note in notes)
        {
            text.AppendLine($"- {note}");
        }

        text.AppendLine();
        text.AppendLine(ConsoleReport.LimitsCaption(limits));
        text.AppendLine().AppendLine("| threads | FMA peak GFLOP/s | read GB/s |").AppendLine("|---:|---:|---:|");
        foreach (int t in limits.ThreadCounts)
        {
            text.AppendLine($"| {t} | {RowCells.Number(limits.FmaPeak(t), "F1")} | {RowCells.Number(limits.Bandwidth(t), "F1")} |");
        }

        text.AppendLine().AppendLine($"| {string.Join(" | ", RowCells.Headers)} |");
        text.AppendLine($"|{string.Join('|', RowCells.Headers.Select((_, c) => RowCells.IsNumeric(c) ? "---:" : "---"))}|");
        foreach (var row in rows)
        {
            var cells = RowCells.Of(row);
            if (!row.Passes)
            {
                cells[9] += " **FAIL**";
            }

            text.AppendLine($"| {string.Join(" | ", cells)} |");
        }

        return text.ToString();
    }
}
