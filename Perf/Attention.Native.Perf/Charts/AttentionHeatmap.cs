using System.Globalization;
using ScottPlot;

namespace Attention.Native.Perf.Charts;

/// <summary>A heat map of one head's attention weights: rows are queries, columns keys, with a colour bar.</summary>
internal static class AttentionHeatmap
{
    /// <param name="weights">The head's <c>[Lq, Lk]</c> probabilities.</param>
    /// <param name="queryLabels">One label per query row.</param>
    /// <param name="keyLabels">One label per key column.</param>
    /// <param name="queryFont">The font of the query labels (null: the default).</param>
    /// <param name="keyFont">The font of the key labels (null: the default).</param>
    /// <param name="title">The title.</param>
    /// <param name="path">The PNG to write.</param>
    /// <param name="titleFont">The font of the title (null: the default).</param>
    public static void Write(
        double[,] weights, IReadOnlyList<string> queryLabels, IReadOnlyList<string> keyLabels, string? queryFont, string? keyFont,
        string title, string path, string? titleFont)
    {
        int rows = weights.GetLength(0), columns = weights.GetLength(1);
        var plot = new Plot();
        var map = plot.Add.Heatmap(weights);
        map.Colormap = new ScottPlot.Colormaps.Viridis();
        map.ManualRange = new ScottPlot.Range(0, 1);

        // ScottPlot centres cell (r, c) on x = c, y = rows - 1 - r: the first query at the top, as a matrix reads.
        var bar = plot.Add.ColorBar(map);
        bar.Label = "attention weight";

        bool small = rows <= 24 && columns <= 24;
        if (small)
        {
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < columns; c++)
                {
                    var text = plot.Add.Text(weights[r, c].ToString("0.00", CultureInfo.InvariantCulture), c, rows - 1 - r);
                    text.LabelFontSize = rows <= 8 && columns <= 8 ? 16 : 10;
                    text.LabelFontColor = weights[r, c] > 0.6 ? Colors.Black : Colors.White;
                    text.LabelAlignment = Alignment.MiddleCenter;
                }
            }
        }

        int step = Math.Max(1, Math.Max(rows, columns) / 24);
        plot.Axes.Bottom.SetTicks(
            [.. Enumerable.Range(0, columns).Where(c => c % step == 0).Select(c => (double)c)],
            [.. Enumerable.Range(0, columns).Where(c => c % step == 0).Select(c => keyLabels[c])]);
        plot.Axes.Left.SetTicks(
            [.. Enumerable.Range(0, rows).Where(r => r % step == 0).Select(r => (double)(rows - 1 - r))],
            [.. Enumerable.Range(0, rows).Where(r => r % step == 0).Select(r => queryLabels[r])]);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 16;
        plot.Axes.Left.TickLabelStyle.FontSize = 16;
        if (keyFont is not null)
        {
            plot.Axes.Bottom.TickLabelStyle.FontName = keyFont;
        }

        if (queryFont is not null)
        {
            plot.Axes.Left.TickLabelStyle.FontName = queryFont;
        }

        plot.Axes.SetLimits(-0.5, columns - 0.5, -0.5, rows - 0.5);
        plot.Title(title);
        if (titleFont is not null)
        {
            plot.Axes.Title.Label.FontName = titleFont;
        }
        plot.XLabel("key token (attended to)");
        plot.YLabel("query token (attending)");
        int width = Math.Clamp(200 + (columns * 70), 640, 1400), height = Math.Clamp(160 + (rows * 70), 480, 1300);
        plot.SavePng(path, width + 160, height);
    }
}
