using Attention.Native.Perf.Limits;
using BenchmarkDotNet.Attributes;

namespace Attention.Native.Perf.Bench;

/// <summary>The machine's streaming-read limit: summing a 256 MiB buffer on 1 and 2 threads.</summary>
public class ReadBandwidthBenchmarks : IDisposable
{
    public const long BytesPerInvocation = MachineLimits.BandwidthBytes;

    private Limits.ReadBandwidth? bandwidth;

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup() => bandwidth = new Limits.ReadBandwidth(BytesPerInvocation);

    [Benchmark]
    public double ReadBandwidth() => bandwidth!.Measure(Threads);

    [GlobalCleanup]
    public void Cleanup() => Dispose();

    public void Dispose()
    {
        bandwidth?.Dispose();
        bandwidth = null;
        GC.SuppressFinalize(this);
    }
}
