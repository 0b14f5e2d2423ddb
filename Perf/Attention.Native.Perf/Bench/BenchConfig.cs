using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;

namespace Attention.Native.Perf.Bench;

/// <summary>
/// The bench configuration: BenchmarkDotNet's defaults plus the rate columns and a short job (1 launch, 3 warm-ups,
/// 5 iterations) marked as the default job, so command-line job options (<c>--job</c>, <c>--iterationCount</c>, …)
/// replace or modify it.
/// </summary>
internal static class BenchConfig
{
    public static IConfig Create() => DefaultConfig.Instance
        .AddJob(Job.Default.WithId("Short").WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(5).AsDefault())
        .AddColumn(ThroughputColumn.All)
        .WithSummaryStyle(SummaryStyle.Default.WithMaxParameterColumnWidth(40)) // shape names are up to 39 characters
        .WithOptions(ConfigOptions.DisableLogFile);
}
