using BenchmarkDotNet.Running;

namespace Attention.Native.Perf.Bench;

/// <summary>What one invocation of a benchmark does, read from its parameters, so columns can turn times into rates.</summary>
/// <param name="Flops">Floating-point operations per invocation (0 when none are counted).</param>
/// <param name="Bytes">Bytes read from memory per invocation (0 when not memory-bound).</param>
/// <param name="Threads">Threads the invocation uses.</param>
/// <param name="MemoryBound">Whether read bandwidth, not the FMA peak, is the limit to compare with.</param>
internal readonly record struct Work(double Flops, double Bytes, int Threads, bool MemoryBound)
{
    public const string ThreadsParameter = "Threads";

    /// <summary>The work of a benchmark case of this assembly, or null for one it does not know.</summary>
    public static Work? Of(BenchmarkCase benchmarkCase)
    {
        var parameters = benchmarkCase.Parameters;
        if (parameters[ThreadsParameter] is not int threads)
        {
            return null;
        }

        var type = benchmarkCase.Descriptor.Type;
        return type == typeof(AttentionBenchmarks) && parameters[AttentionBenchmarks.CaseParameter] is Workloads.PerfCase perfCase
            ? new Work(perfCase.Flops, perfCase.IsDecode ? perfCase.KeyValueBytes : 0, threads, perfCase.IsDecode)
            : type == typeof(LayerBenchmarks) && parameters[LayerBenchmarks.ShapeParameter] is string shape
                ? new Work(LayerBenchmarks.WorkloadOf(shape).Flops, 0, threads, false)
            : type == typeof(FmaPeakBenchmarks) ? new Work(FmaPeakBenchmarks.FlopsPerInvocation(threads), 0, threads, false)
            : type == typeof(ReadBandwidthBenchmarks) ? new Work(0, ReadBandwidthBenchmarks.BytesPerInvocation, threads, true)
            : null;
    }
}
