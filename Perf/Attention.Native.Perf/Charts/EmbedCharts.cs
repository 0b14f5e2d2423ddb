using System.Globalization;
using Attention.Native.Perf.Embedding;
using ScottPlot;

namespace Attention.Native.Perf.Charts;

/// <summary>embed-bench as PNG charts: sentences per second of both engines, and our throughput over ORT's.</summary>
internal static class EmbedCharts
{
    public const string ThroughputFile = "embed-throughput.png";
    public const string RatioFile = "embed-ratio.png";

    /// <summary>Writes both charts into <paramref name="folder"/>; returns the files written.</summary>
    public static IReadOnlyList<string> Write(IReadOnlyList<EmbedRow> rows, string folder, string machine)
    {
        ChartFonts.Configure();
        var cases = rows.Select(r => r.Case).Distinct().ToList();
        int[] threads = [.. rows.Select(r => r.Threads).Distinct().Order()];
        var palette = new ScottPlot.Palettes.Category10();
        string throughputPath = Path.Combine(folder, ThroughputFile), ratioPath = Path.Combine(folder, RatioFile);
        Throughput(rows, cases, threads, palette, machine).SavePng(throughputPath, 1200, 650);
        Ratio(rows, cases, threads, palette, machine).SavePng(ratioPath, 1200, 650);
        return [throughputPath, ratioPath];
    }

    /// <summary>Sentences per second (log scale), per case: ours and ORT's bar side by side for each thread count.</summary>
    private static Plot Throughput(IReadOnlyList<EmbedRow> rows, List<EmbedCase> cases, int[] threads, IPalette palette, string machine)
    {
        var plot = new Plot();
        int perCase = 2 * threads.Length;
        var bars = new List<Bar>();
        for (int c = 0; c < cases.Count; c++)
        {
            for (int t = 0; t < threads.Length; t++)
            {
                if (rows.FirstOrDefault(r => r.Case == cases[c] && r.Threads == threads[t]) is not { } row)
                {
                    continue;
                }

                double position = (c * (perCase + 1)) + (2 * t);
                bars.Add(LogBar(position, row.OursSentencesPerSecond, palette.GetColor(2 * t)));
                bars.Add(LogBar(position + 1, row.OrtSentencesPerSecond, palette.GetColor((2 * t) + 1)));
            }
        }

        plot.Add.Bars(bars);
        for (int t = 0; t < threads.Length; t++)
        {
            string n = Threads(threads[t]);
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = $"Attention.Native, {n}", FillColor = palette.GetColor(2 * t) });
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = $"ONNX Runtime, {n}", FillColor = palette.GetColor((2 * t) + 1) });
        }

        double[] decades = [.. Enumerable.Range(-1, 6).Select(d => (double)d)];
        plot.Axes.Left.SetTicks(decades, [.. decades.Select(d => Math.Pow(10, d).ToString("0.#", CultureInfo.InvariantCulture))]);
        double top = Math.Log10(rows.Max(r => Math.Max(r.OursSentencesPerSecond, r.OrtSentencesPerSecond)));
        double bottom = Math.Floor(Math.Log10(rows.Min(r => Math.Min(r.OursSentencesPerSecond, r.OrtSentencesPerSecond))));
        plot.Axes.SetLimitsY(bottom, top + 0.6);
        CaseTicks(plot, cases, perCase);
        plot.Title($"all-MiniLM-L6-v2 sentence embeddings per second (CPU, float, higher is better)\n{machine}");
        plot.YLabel("sentences / s (log scale)");
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }

    /// <summary>Our throughput over ORT's per case and thread count, with 1x and the goal marked.</summary>
    private static Plot Ratio(IReadOnlyList<EmbedRow> rows, List<EmbedCase> cases, int[] threads, IPalette palette, string machine)
    {
        var plot = new Plot();
        var bars = new List<Bar>();
        for (int c = 0; c < cases.Count; c++)
        {
            for (int t = 0; t < threads.Length; t++)
            {
                if (rows.FirstOrDefault(r => r.Case == cases[c] && r.Threads == threads[t]) is { } row)
                {
                    bars.Add(new Bar
                    {
                        Position = (c * (threads.Length + 1)) + t,
                        Value = row.Ratio,
                        FillColor = palette.GetColor(2 * t),
                        Label = $"{row.Ratio:0.00}x",
                    });
                }
            }
        }

        var barPlot = plot.Add.Bars(bars);
        barPlot.ValueLabelStyle.FontSize = 10;
        foreach (int t in Enumerable.Range(0, threads.Length))
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = Threads(threads[t]), FillColor = palette.GetColor(2 * t) });
        }

        var parity = plot.Add.HorizontalLine(1, 1, Colors.Gray, LinePattern.Dotted);
        parity.LegendText = "ONNX Runtime (= 1x)";
        var goal = plot.Add.HorizontalLine(EmbedReport.GoalRatio, 1, Colors.DarkRed, LinePattern.Dashed);
        goal.LegendText = $"goal for batches ≥ {EmbedReport.GoalMinBatch} ({EmbedReport.GoalRatio:0.0}x)";
        CaseTicks(plot, cases, threads.Length);
        plot.Axes.SetLimitsY(0, Math.Max(1.5, rows.Max(r => r.Ratio) * 1.2));
        plot.Title($"Attention.Native's throughput over ONNX Runtime's, same batches, same threads\n{machine}");
        plot.YLabel("ours / ORT (sentences per second)");
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }

    private static Bar LogBar(double position, double value, Color color) => new()
    {
        Position = position,
        ValueBase = -1,
        Value = Math.Log10(value),
        FillColor = color,
        Label = value.ToString(value < 10 ? "0.0" : "0", CultureInfo.InvariantCulture),
    };

    /// <summary>One tick per case, centred under its group of <paramref name="barsPerCase"/> bars.</summary>
    private static void CaseTicks(Plot plot, List<EmbedCase> cases, int barsPerCase)
    {
        plot.Axes.Bottom.SetTicks(
            [.. cases.Select((_, c) => (c * (barsPerCase + 1)) + ((barsPerCase - 1) / 2.0))],
            [.. cases.Select(c => c.Label)]);
        plot.Axes.SetLimitsX(-1, (cases.Count * (barsPerCase + 1)) - 1);
        plot.XLabel("sentences × tokens per sentence");
    }

    private static string Threads(int n) => $"{n} thread{(n == 1 ? string.Empty : "s")}";
}
