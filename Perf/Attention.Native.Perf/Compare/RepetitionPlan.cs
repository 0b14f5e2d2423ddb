using System.Diagnostics;

namespace Attention.Native.Perf.Compare;

/// <summary>How many times to run a case: warm-ups, then enough timed runs to fill a time budget, within bounds.</summary>
/// <param name="WarmupRuns">Untimed runs first (caches, thread pool), at least this many…</param>
/// <param name="WarmupSeconds">…and for at least this long: tiered JIT compiles a kernel's first calls unoptimised and
/// re-compiles it in the background after ~100 ms, so a count alone measured tier-0 code on small shapes.</param>
/// <param name="TargetSeconds">Roughly how long the timed runs of one case may take together.</param>
/// <param name="MinRuns">Fewest timed runs.</param>
/// <param name="MaxRuns">Most timed runs.</param>
internal sealed record RepetitionPlan(int WarmupRuns, double WarmupSeconds, double TargetSeconds, int MinRuns, int MaxRuns)
{
    public static RepetitionPlan Quick { get; } = new(WarmupRuns: 1, WarmupSeconds: 0.4, TargetSeconds: 0.3, MinRuns: 5, MaxRuns: 25);

    public static RepetitionPlan Full { get; } = new(WarmupRuns: 3, WarmupSeconds: 2.0, TargetSeconds: 3.0, MinRuns: 15, MaxRuns: 1000);

    /// <summary>Runs <paramref name="action"/> per the plan and returns the median time of the timed runs.</summary>
    public TimeSpan Median(Action action)
    {
        var last = TimeSpan.Zero;
        long warmupStart = Stopwatch.GetTimestamp();
        for (int i = 0; i < Math.Max(WarmupRuns, 1) || Stopwatch.GetElapsedTime(warmupStart).TotalSeconds < WarmupSeconds; i++)
        {
            last = Time(action);
        }

        int runs = Math.Clamp((int)(TargetSeconds / Math.Max(last.TotalSeconds, 1e-9)), MinRuns, MaxRuns);
        var times = new TimeSpan[runs];
        for (int i = 0; i < runs; i++)
        {
            times[i] = Time(action);
        }

        Array.Sort(times);
        return runs % 2 == 1 ? times[runs / 2] : (times[(runs / 2) - 1] + times[runs / 2]) / 2;
    }

    private static TimeSpan Time(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start);
    }
}
