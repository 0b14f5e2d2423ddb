using Attention.Native.Perf.Charts;
using ScottPlot;

namespace TrainSample;

/// <summary>The run's two PNGs: the loss curve, and the trained cross-attention's weights as a heat map (the perf tool's).</summary>
internal static class TrainingCharts
{
    public static string WriteLossCurve(IReadOnlyList<float> losses, string folder)
    {
        ChartFonts.Configure();
        var plot = new Plot();
        double[] xs = [.. Enumerable.Range(1, losses.Count).Select(i => (double)i)];
        double[] ys = [.. losses.Select(l => (double)l)];
        var line = plot.Add.Scatter(xs, ys);
        line.MarkerSize = 0;
        line.LineWidth = 2;
        plot.Axes.SetLimitsY(0, losses.Max() * 1.05);
        plot.Title("Training loss (cross-entropy), toy English → Chinese");
        plot.XLabel("step");
        plot.YLabel("loss");
        string path = Path.Combine(folder, "loss.png");
        plot.SavePng(path, 900, 540);
        return path;
    }

    public static string WriteHeatmap(float[] weights, string[] queryLabels, string[] keyLabels, string folder)
    {
        ChartFonts.Configure();
        int rows = queryLabels.Length, columns = keyLabels.Length;
        var grid = new double[rows, columns];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                grid[r, c] = weights[(r * columns) + c];
            }
        }

        string path = Path.Combine(folder, "cross-attention.png");
        string? cjk = ChartFonts.CjkFile is null ? null : ChartFonts.CjkName;
        AttentionHeatmap.Write(grid, queryLabels, keyLabels, cjk, null, "Trained cross-attention (mean over heads)", path, null);
        return path;
    }
}
