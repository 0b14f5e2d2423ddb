using System.Diagnostics;
using Attention.Native.Cpu;
using Attention.Native.Cpu.Simd;
using Attention.Native.Perf.Limits;

namespace Attention.Native.Perf.Gemm;

/// <summary>
/// Times each shape at each thread count: warm-ups, then timed runs until a time budget is spent (at least
/// <see cref="MinimumRuns"/>), keeping the best, since on a shared machine other work only ever slows a run. Each
/// timed run is followed by a short FMA-peak probe at the same thread count, so peak and product see the same
/// machine; a row's fraction uses the best probe of the whole run at its thread count.
/// </summary>
internal static class GemmRunner
{
    public const int MinimumRuns = 3;

    /// <summary>Rows of C checked against the float64 product.</summary>
    public const int SampleRows = 64;

    /// <summary>Loop trips per millisecond of probe at about 100 GFLOP/s per thread (12 × 8 lanes × 2 flops a trip).</summary>
    private const long TripsPerMillisecond = 500_000;

    public static List<GemmRow> Run(IReadOnlyList<GemmShape> shapes, IReadOnlyList<int> threadCounts,
        IReadOnlyList<CpuKernelVariant> variants, bool quick, double budget, int seed, Action<string> progress)
    {
        var peaks = threadCounts.ToDictionary(t => t, _ => 0.0);
        var rows = new List<GemmRow>();
        foreach (var shape in shapes)
        {
            var operands = GemmOperands.Create(shape, new Random(seed));
            foreach (var variant in variants)
            {
                string name = CpuIsa.Resolve(variant).ToString();
                foreach (int threads in threadCounts)
                {
                    progress($"{shape.Name}, {name}, {threads} thread(s)");
                    double ms = BestMilliseconds(() => operands.Multiply(shape, threads, variant), threads, quick, budget, peaks);
                    rows.Add(new GemmRow(shape, name, threads, ms, 0, operands.RelativeError(shape, SampleRows)));
                }
            }
        }

        return [.. rows.Select(r => r with { PeakGflops = peaks[r.Threads] })];
    }

    private static double BestMilliseconds(Action multiply, int threads, bool quick, double budget, Dictionary<int, double> peaks)
    {
        for (int i = 0; i < (quick ? 1 : 3); i++)
        {
            multiply();
        }

        double best = double.MaxValue;
        var total = Stopwatch.StartNew();
        for (int run = 0; run < MinimumRuns || total.Elapsed.TotalSeconds < budget; run++)
        {
            long start = Stopwatch.GetTimestamp();
            multiply();
            double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            best = Math.Min(best, ms);

            // As long as the product took: a short probe would find a quiet moment more easily than a long product.
            long trips = Math.Clamp((long)(ms * TripsPerMillisecond), 100_000, 50_000_000);
            peaks[threads] = Math.Max(peaks[threads], Probe(threads, trips));
        }

        return best;
    }

    /// <summary>
    /// One FMA-peak probe of <paramref name="trips"/> loop trips per thread: GFLOP/s of <paramref name="threads"/>
    /// threads released together, each timing its own loop, over the slowest. (Timing from the caller would miss a loop that finished before the caller was
    /// scheduled again, on a machine where the threads outnumber free cores.)
    /// </summary>
    public static double Probe(int threads, long trips)
    {
        if (threads == 1)
        {
            long start = Stopwatch.GetTimestamp();
            FmaPeak.Run(trips);
            return FmaPeak.FlopsPerThread(trips) / Stopwatch.GetElapsedTime(start).TotalSeconds / 1e9;
        }

        var seconds = new double[threads];
        ConcurrentRun.Time(threads, worker =>
        {
            long start = Stopwatch.GetTimestamp();
            float result = FmaPeak.Run(trips);
            seconds[worker] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            return result;
        });
        return threads * FmaPeak.FlopsPerThread(trips) / seconds.Max() / 1e9;
    }
}
