using Attention.Native.Cpu;
using Attention.Native.Layers;
using Attention.Native.Perf.Layers;
using BenchmarkDotNet.Attributes;

namespace Attention.Native.Perf.Bench;

/// <summary>A MultiHeadAttention self-attention forward on the CPU backend (the seed and long shapes), 1 and 2 threads.</summary>
public class LayerBenchmarks : IDisposable
{
    public const string ShapeParameter = nameof(Shape);

    private CpuBackend? backend;
    private MultiHeadAttention<float>? layer;
    private AttentionTensor<float>? input;
    private AttentionTensor<float>? output;

    public static IEnumerable<string> Shapes => LayerWorkload.All.Select(w => w.Name);

    [ParamsSource(nameof(Shapes))]
    public string Shape { get; set; } = "seed";

    [Params(1, 2)]
    public int Threads { get; set; }

    internal static LayerWorkload WorkloadOf(string shape) => LayerWorkload.Filter(shape)[0];

    [GlobalSetup]
    public void Setup()
    {
        var workload = WorkloadOf(Shape);
        var random = new Random(1);
        backend = new CpuBackend(new CpuBackendOptions { ThreadCount = Threads });
        layer = workload.CreateLayer(backend, random);
        input = backend.Upload<float>(workload.Input(random));
        output = backend.Allocate<float>(input.Length);
    }

    [Benchmark]
    public void Forward() => layer!.Forward(WorkloadOf(Shape).Batch, input!, output!);

    [GlobalCleanup]
    public void Cleanup() => Dispose();

    public void Dispose()
    {
        layer?.Dispose();
        input?.Dispose();
        output?.Dispose();
        backend?.Dispose();
        (layer, input, output, backend) = (null, null, null, null);
        GC.SuppressFinalize(this);
    }
}
