using System.Text;
using Attention.Native.Perf.Compare;
using Attention.Native.Perf.Limits;

namespace Attention.Native.Perf.Report;

/// <summary>The compare results as a Markdown document: the machine's limits, then the table.</summary>
internal static class MarkdownReport
{
    /// <param name="measured">The limits measured before and after the timings.</param>
    /// <param name="limits">The limits the fractions use.</param>
    /// <param name="rows">The results.</param>
    /// <param name="notes">Lines for the top: machine, load, operands.</param>
    public static string Render(
        IReadOnlyList<(string Label, MachineLimits Limits)> measured, MachineLimits limits, IReadOnlyList<CompareRow> rows, IEnumerable<string> notes)
    {
        var text = new StringBuilder();
        text.AppendLine("# Attention.Native compare").AppendLine();
        foreach (string note in notes)
        {
            text.AppendLine($"- {note}");
        }

        text.AppendLine();
        text.AppendLine(ConsoleReport.LimitsCaption);
        var headers = LimitCells.Headers(measured);
        text.AppendLine().AppendLine($"| {string.Join(" | ", headers)} |").AppendLine($"|{string.Join('|', headers.Select(_ => "---:"))}|");
        foreach (string[] row in LimitCells.Rows(measured))
        {
            text.AppendLine($"| {string.Join(" | ", row)} |");
        }

        var columns = RowCells.HeadersFor(rows);
        text.AppendLine().AppendLine($"| {string.Join(" | ", columns)} |");
        text.AppendLine($"|{string.Join('|', columns.Select((_, c) => RowCells.IsNumeric(c) ? "---:" : "---"))}|");
        foreach (var row in rows)
        {
            var cells = RowCells.Of(row, limits, columns);
            if (!row.Passes)
            {
                cells[RowCells.ErrorColumn] += " **FAIL**";
            }

            text.AppendLine($"| {string.Join(" | ", cells)} |");
        }

        if (PeerCells.Peers(rows).Count > 0)
        {
            var peerColumns = PeerCells.Headers(rows);
            text.AppendLine().AppendLine("## Ours beside the peers").AppendLine().AppendLine(PeerCells.Caption).AppendLine();
            text.AppendLine($"| {string.Join(" | ", peerColumns)} |");
            text.AppendLine($"|{string.Join('|', peerColumns.Select((_, c) => PeerCells.IsNumeric(c) ? "---:" : "---"))}|");
            foreach (string[] cells in PeerCells.Rows(rows))
            {
                text.AppendLine($"| {string.Join(" | ", cells)} |");
            }
        }

        return text.ToString();
    }
}
