using System.Diagnostics;

namespace Attention.Native.Perf.Limits;

/// <summary>Runs a body on <c>t</c> dedicated threads released together and times the whole, start to last finish.</summary>
internal static class ConcurrentRun
{
    /// <summary>Runs <paramref name="body"/>(worker) on each of <paramref name="threads"/> threads.</summary>
    /// <returns>Wall-clock seconds. What the bodies return is kept, so their work cannot be optimised away.</returns>
    public static double Time(int threads, Func<int, float> body)
    {
        var results = new float[threads];
        using var start = new Barrier(threads + 1);
        var workers = new Thread[threads];
        for (int w = 0; w < threads; w++)
        {
            int worker = w;
            workers[w] = new Thread(() =>
            {
                start.SignalAndWait();
                results[worker] = body(worker);
            })
            {
                IsBackground = true,
                Name = $"perf-probe-{worker}",
            };
            workers[w].Start();
        }

        start.SignalAndWait();
        long begin = Stopwatch.GetTimestamp();
        foreach (var thread in workers)
        {
            thread.Join();
        }

        double seconds = Stopwatch.GetElapsedTime(begin).TotalSeconds;
        GC.KeepAlive(results);
        return seconds;
    }
}
