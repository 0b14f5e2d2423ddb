using Attention.Native.Perf.Limits;
using BenchmarkDotNet.Attributes;

namespace Attention.Native.Perf.Bench;

/// <summary>The machine's FMA limit: the register-only loop of <see cref="Limits.FmaPeak"/> on 1 and 2 threads.</summary>
public class FmaPeakBenchmarks
{
    /// <summary>Loop trips per thread per invocation: tens of milliseconds, so thread start-up is noise.</summary>
    public const long Iterations = 20_000_000;

    [Params(1, 2)]
    public int Threads { get; set; }

    public static double FlopsPerInvocation(int threads) => threads * Limits.FmaPeak.FlopsPerThread(Iterations);

    [Benchmark]
    public double FmaPeak() => ConcurrentRun.Time(Threads, _ => Limits.FmaPeak.Run(Iterations));
}
