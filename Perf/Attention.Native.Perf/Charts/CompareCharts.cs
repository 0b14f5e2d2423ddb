using System.Globalization;
using Attention.Native.Perf.Compare;
using ScottPlot;

namespace Attention.Native.Perf.Charts;

/// <summary>The compare results as PNG charts: throughput against sequence length, and the speed-up per shape.</summary>
internal static class CompareCharts
{
    public const string ThroughputFile = "throughput.png";
    public const string SpeedupFile = "speedup.png";

    /// <summary>Writes the charts that the rows allow into <paramref name="folder"/>; returns the files written. The
    /// charts show the library's rows; the peers' rows are in the tables.</summary>
    public static IReadOnlyList<string> Write(IReadOnlyList<CompareRow> allRows, string folder, string machine)
    {
        var rows = allRows.Where(r => r.Peer is null).ToList();
        ChartFonts.Configure();
        var written = new List<string>();
        if (Throughput(rows, machine) is { } throughput)
        {
            string path = Path.Combine(folder, ThroughputFile);
            throughput.SavePng(path, 1100, 650);
            written.Add(path);
        }

        if (Speedup(rows, machine) is { } speedup)
        {
            string path = Path.Combine(folder, SpeedupFile);
            speedup.SavePng(path, 1100, 650);
            written.Add(path);
        }

        return written;
    }

    /// <summary>Prefill shapes: self-attention with Lq = Lk, batch 1, more than one query.</summary>
    private static bool IsPrefill(CompareRow row) =>
        !row.Case.IsDecode && row.Case.Shape.Batch == 1 && row.Case.Shape.QueryLength == row.Case.Shape.KeyLength;

    /// <summary>GFLOP/s against the sequence length (log₂ axis), one line per shape family, layout, mask, backend, variant,
    /// operand type and thread count; null when no prefill shape was measured.</summary>
    private static Plot? Throughput(IReadOnlyList<CompareRow> rows, string machine)
    {
        var prefill = rows.Where(IsPrefill).ToList();
        if (prefill.Count == 0)
        {
            return null;
        }

        var plot = new Plot();
        var series = prefill.GroupBy(r => (r.Case.Shape.QueryHeads, r.Case.Shape.HeadDim, r.Case.Layout, r.Case.Mask, r.Backend, r.Variant, r.Dtype, r.Threads));
        var palette = new ScottPlot.Palettes.Category10();
        int index = 0;
        foreach (var group in series.OrderBy(g => g.Key.Backend).ThenBy(g => g.Key.Dtype).ThenBy(g => g.Key.Threads).ThenBy(g => g.Key.Mask, StringComparer.Ordinal))
        {
            var points = group.OrderBy(r => r.Case.Shape.KeyLength).ToList();
            double[] xs = [.. points.Select(r => Math.Log2(r.Case.Shape.KeyLength))];
            double[] ys = [.. points.Select(r => r.Gflops)];
            var line = plot.Add.Scatter(xs, ys, palette.GetColor(index++ % palette.Colors.Length));
            var k = group.Key;
            string threads = k.Threads > 0 ? $", {k.Threads} thread{(k.Threads == 1 ? string.Empty : "s")}" : string.Empty;
            line.LegendText = $"{k.Backend} {k.Variant} {k.Dtype.Name()}{threads}, h{k.QueryHeads} d{k.HeadDim}{(k.Layout == AttentionLayout.Bshd ? " BSHD" : string.Empty)}, {k.Mask}";
            line.LineWidth = 2;
            line.MarkerSize = 8;
            line.LinePattern = k.Mask == "causal" ? LinePattern.Dashed : LinePattern.Solid;
        }

        int[] lengths = [.. prefill.Select(r => r.Case.Shape.KeyLength).Distinct().Order()];
        plot.Axes.Bottom.SetTicks([.. lengths.Select(l => Math.Log2(l))], [.. lengths.Select(l => l.ToString(CultureInfo.InvariantCulture))]);
        double low = Math.Log2(lengths[0]), high = Math.Log2(lengths[^1]);
        plot.Axes.SetLimitsX(low - 0.5, high + 0.5);
        plot.Axes.SetLimitsY(0, Math.Max(1, prefill.Max(r => r.Gflops)) * 1.15);
        string dtypes = string.Join(", ", prefill.Select(r => r.Dtype).Distinct().Order().Select(t => t.Name()));
        plot.Title($"Attention throughput, prefill (self-attention, Lq = Lk, {dtypes})\n{machine}");
        plot.XLabel("Sequence length L (log scale)");
        plot.YLabel("GFLOP/s (4·B·H·L²·D, halved when causal)");
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }

    /// <summary>Per shape (and operand type, when several were measured), the fastest row's speed-up over the CPU with
    /// one thread (the fewest threads measured when one was not) of the same operand type, in the variant measured
    /// first; null when nothing was measured.</summary>
    private static Plot? Speedup(IReadOnlyList<CompareRow> rows, string machine)
    {
        bool manyTypes = rows.Select(r => r.Dtype).Distinct().Count() > 1;
        var cases = rows.GroupBy(r => manyTypes ? $"{r.Case.Label} {r.Dtype.Name()}" : r.Case.Label).ToList();
        var bars = new List<(string Label, double Speedup, string Winner)>();
        int? baselineThreads = rows.Where(r => r.Backend == AttentionBackendKind.Cpu).Select(r => (int?)r.Threads).Min();
        if (baselineThreads is null)
        {
            return null;
        }

        foreach (var group in cases)
        {
            var baseline = group.FirstOrDefault(r => r.Backend == AttentionBackendKind.Cpu && r.Threads == baselineThreads);
            if (baseline is null)
            {
                continue;
            }

            var fastest = group.MinBy(r => r.Median)!;
            string winner = fastest.Backend == AttentionBackendKind.Cpu ? $"CPU {fastest.Threads}t" : fastest.Backend.ToString();
            bars.Add((group.Key, baseline.Median / fastest.Median, winner));
        }

        if (bars.Count == 0)
        {
            return null;
        }

        var plot = new Plot();
        bool gpu = rows.Any(r => r.Backend != AttentionBackendKind.Cpu);
        var palette = new ScottPlot.Palettes.Category10();
        string[] winners = [.. bars.Select(b => b.Winner).Distinct()];
        var barList = new List<Bar>();
        for (int i = 0; i < bars.Count; i++)
        {
            var color = palette.GetColor(Array.IndexOf(winners, bars[i].Winner));
            barList.Add(new Bar
            {
                Position = i,
                Value = bars[i].Speedup,
                FillColor = color,
                Label = $"{bars[i].Speedup:0.00}x {bars[i].Winner}",
            });
        }

        var barPlot = plot.Add.Bars(barList);
        barPlot.ValueLabelStyle.FontSize = 11;
        foreach (string winner in winners)
        {
            plot.Legend.ManualItems.Add(new LegendItem
            {
                LabelText = $"fastest: {winner}",
                FillColor = palette.GetColor(Array.IndexOf(winners, winner)),
            });
        }

        var baselineLine = plot.Add.HorizontalLine(1, 1, Colors.Gray, LinePattern.Dotted);
        baselineLine.LegendText = $"CPU {baselineThreads} thread{(baselineThreads == 1 ? string.Empty : "s")} (= 1x)";
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, bars.Count).Select(i => (double)i)], [.. bars.Select(b => b.Label)]);
        plot.Axes.Bottom.TickLabelStyle.Rotation = 35;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = 190;
        plot.Axes.SetLimitsX(-0.6, bars.Count - 0.4);
        plot.Axes.SetLimitsY(0, Math.Max(1.2, bars.Max(b => b.Speedup) * 1.35));
        string what = gpu ? "fastest backend (GPU where measured)" : "fastest CPU thread count";
        plot.Title($"Speed-up of the {what} over CPU with {baselineThreads} thread{(baselineThreads == 1 ? string.Empty : "s")}\n{machine}");
        plot.XLabel("Shape");
        plot.YLabel($"Speed-up (CPU {baselineThreads}t time / fastest time)");
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }
}
