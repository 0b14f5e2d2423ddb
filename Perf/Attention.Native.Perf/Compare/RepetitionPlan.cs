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
    public TimeSpan Median(Action action) => Medians([action])[0];

    /// <summary>
    /// Runs every action per the plan, interleaved: each warm-up round and each timed round runs every action once, the
    /// one that goes first moving along by one each round, so whatever else the machine is doing falls on all of them
    /// alike. The warm-up lasts the plan's warm-up time per action; the timed rounds share the plan's target time per
    /// action, counted from the slowest round.
    /// </summary>
    /// <returns>The median time of each action's timed runs, in the order given.</returns>
    public TimeSpan[] Medians(IReadOnlyList<Action> actions)
    {
        int count = actions.Count;
        var last = new TimeSpan[count];
        long warmupStart = Stopwatch.GetTimestamp();
        for (int i = 0; i < Math.Max(WarmupRuns, 1) || Stopwatch.GetElapsedTime(warmupStart).TotalSeconds < WarmupSeconds * count; i++)
        {
            RunRound(actions, i, (a, time) => last[a] = time);
        }

        double round = last.Sum(t => t.TotalSeconds);
        int runs = Math.Clamp((int)(TargetSeconds * count / Math.Max(round, 1e-9)), MinRuns, MaxRuns);
        var times = new TimeSpan[count][];
        for (int a = 0; a < count; a++)
        {
            times[a] = new TimeSpan[runs];
        }

        for (int i = 0; i < runs; i++)
        {
            RunRound(actions, i, (a, time) => times[a][i] = time);
        }

        return [.. times.Select(MedianOf)];
    }

    private static void RunRound(IReadOnlyList<Action> actions, int round, Action<int, TimeSpan> record)
    {
        for (int j = 0; j < actions.Count; j++)
        {
            int a = (round + j) % actions.Count;
            record(a, Time(actions[a]));
        }
    }

    private static TimeSpan MedianOf(TimeSpan[] times)
    {
        Array.Sort(times);
        int runs = times.Length;
        return runs % 2 == 1 ? times[runs / 2] : (times[(runs / 2) - 1] + times[runs / 2]) / 2;
    }

    private static TimeSpan Time(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start);
    }
}
