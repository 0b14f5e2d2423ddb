using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Attention.Native.Perf.Bench;

/// <summary>
/// Rates computed from each benchmark's parameters (<see cref="Work"/>) and its mean time: GFLOP/s, GB/s, and the
/// fraction of the machine's limit, which needs the FMA-peak and read-bandwidth benchmarks in the same summary
/// (<c>--join</c>, which <c>bench</c> passes unless told <c>--no-join</c>).
/// </summary>
internal sealed class ThroughputColumn : IColumn
{
    private readonly Metric metric;

    private ThroughputColumn(Metric metric) => this.metric = metric;

    private enum Metric
    {
        Gflops,
        Gbps,
        OfLimit,
    }

    public static IColumn[] All { get; } = [new ThroughputColumn(Metric.Gflops), new ThroughputColumn(Metric.Gbps), new ThroughputColumn(Metric.OfLimit)];

    public string Id => $"{nameof(ThroughputColumn)}.{metric}";

    public string ColumnName => metric switch
    {
        Metric.Gflops => "GFLOP/s",
        Metric.Gbps => "GB/s",
        _ => "Of limit",
    };

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => (int)metric;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => metric switch
    {
        Metric.Gflops => "Floating-point operations per second: 4·B·Hq·Lq·Lk·D (halved when causal), 2·m·n·k for SGEMM / mean",
        Metric.Gbps => "Bytes read per second: K+V (B·Hkv·Lk·(D+Dv)·4) for decode, the buffer for ReadBandwidth",
        _ => "Rate over the same thread count's FmaPeak GFLOP/s (ReadBandwidth GB/s for memory-bound rows); needs --join",
    };

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        double value = metric == Metric.OfLimit ? OfLimit(summary, benchmarkCase) : Rate(summary, benchmarkCase, metric);
        return double.IsNaN(value) ? "-"
            : metric == Metric.OfLimit ? value.ToString("P0", CultureInfo.InvariantCulture)
            : value.ToString("F1", CultureInfo.InvariantCulture);
    }

    public override string ToString() => ColumnName;

    private static double Rate(Summary summary, BenchmarkCase benchmarkCase, Metric metric)
    {
        double? meanNs = summary[benchmarkCase]?.ResultStatistics?.Mean;
        if (Work.Of(benchmarkCase) is not { } work || meanNs is not > 0)
        {
            return double.NaN;
        }

        double amount = metric == Metric.Gflops ? work.Flops : work.Bytes;
        return amount > 0 ? amount / meanNs.Value : double.NaN; // per nanosecond = giga per second
    }

    private static double OfLimit(Summary summary, BenchmarkCase benchmarkCase)
    {
        var type = benchmarkCase.Descriptor.Type;
        if (Work.Of(benchmarkCase) is not { } work || (type != typeof(AttentionBenchmarks) && type != typeof(GemmBenchmarks)))
        {
            return double.NaN;
        }

        var limitType = work.MemoryBound ? typeof(ReadBandwidthBenchmarks) : typeof(FmaPeakBenchmarks);
        var metric = work.MemoryBound ? Metric.Gbps : Metric.Gflops;
        var limitCase = summary.BenchmarksCases.FirstOrDefault(c =>
            c.Descriptor.Type == limitType && Work.Of(c) is { } w && w.Threads == work.Threads);
        return limitCase is null ? double.NaN : Rate(summary, benchmarkCase, metric) / Rate(summary, limitCase, metric);
    }
}
