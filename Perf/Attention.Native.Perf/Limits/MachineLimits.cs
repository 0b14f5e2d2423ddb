namespace Attention.Native.Perf.Limits;

/// <summary>What this machine can do at most, per thread count: FMA peak GFLOP/s and streaming-read GB/s.</summary>
internal sealed class MachineLimits
{
    /// <summary>Size of the streaming-read buffer: 256 MiB, far beyond any cache here.</summary>
    public const long BandwidthBytes = 256L << 20;

    private readonly Dictionary<int, (double Gflops, double Gbps)> byThreads;

    private MachineLimits(Dictionary<int, (double Gflops, double Gbps)> byThreads) => this.byThreads = byThreads;

    public IEnumerable<int> ThreadCounts => byThreads.Keys.Order();

    public double FmaPeak(int threads) => byThreads.TryGetValue(threads, out var l) ? l.Gflops : double.NaN;

    public double Bandwidth(int threads) => byThreads.TryGetValue(threads, out var l) ? l.Gbps : double.NaN;

    /// <summary>
    /// The higher of two measurements per thread count and limit. Other processes on a shared machine only ever lower
    /// a measured limit, so measuring before and after the timings and keeping the best is closer to the true one.
    /// </summary>
    public static MachineLimits Best(MachineLimits first, MachineLimits second) => new(
        first.byThreads.Keys.Union(second.byThreads.Keys).ToDictionary(
            t => t,
            t => (double.MaxNumber(first.FmaPeak(t), second.FmaPeak(t)), double.MaxNumber(first.Bandwidth(t), second.Bandwidth(t)))));

    /// <summary>Measures both limits for each thread count, keeping the best of a few tries.</summary>
    /// <param name="threadCounts">Thread counts to measure.</param>
    /// <param name="quick">Fewer and shorter tries.</param>
    /// <param name="onProgress">Told what is being measured.</param>
    public static MachineLimits Measure(IEnumerable<int> threadCounts, bool quick, Action<string> onProgress)
    {
        int tries = quick ? 5 : 10;
        long iterations = quick ? 20_000_000 : 100_000_000;
        var results = new Dictionary<int, (double, double)>();
        using var bandwidth = new ReadBandwidth(BandwidthBytes);
        foreach (int threads in threadCounts.Distinct().Order())
        {
            onProgress($"FMA peak, {threads} thread(s)");
            double gflops = 0;
            for (int i = 0; i < tries; i++)
            {
                gflops = Math.Max(gflops, Limits.FmaPeak.Measure(threads, iterations));
            }

            onProgress($"read bandwidth, {threads} thread(s)");
            double gbps = 0;
            for (int i = 0; i < tries; i++)
            {
                gbps = Math.Max(gbps, bandwidth.Measure(threads));
            }

            results[threads] = (gflops, gbps);
        }

        return new MachineLimits(results);
    }
}
