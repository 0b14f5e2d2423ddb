using Attention.Native.Cpu;
using Attention.Native.Perf.Workloads;
using BenchmarkDotNet.Attributes;

namespace Attention.Native.Perf.Bench;

/// <summary>Fused attention on the CPU backend over the compare shapes (fp32, each in its layout), at 1 and 2 threads.</summary>
public class AttentionBenchmarks : IDisposable
{
    public const string CaseParameter = nameof(Case);

    /// <summary>Set by <c>bench &lt;shape filter&gt;</c>; benchmark processes inherit it, so they see the same list.</summary>
    public const string ShapeFilterVariable = "ATTENTION_NATIVE_PERF_SHAPES";

    private CpuBackend? backend;
    private AttentionTensor<float>? query;
    private AttentionTensor<float>? key;
    private AttentionTensor<float>? value;
    private AttentionTensor<float>? output;
    private AttentionOptions options = AttentionOptions.Default;

    public static IEnumerable<PerfCase> Cases => PerfCatalog.Filter(Environment.GetEnvironmentVariable(ShapeFilterVariable));

    [ParamsSource(nameof(Cases))]
    public PerfCase Case { get; set; } = PerfCatalog.All[0];

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        backend = new CpuBackend(new CpuBackendOptions { ThreadCount = Threads });
        var operands = RandomOperands.Create(Case.Shape, new Random(PerfCatalog.IndexOf(Case)));
        query = backend.Upload<float>(operands.Query);
        key = backend.Upload<float>(operands.Key);
        value = backend.Upload<float>(operands.Value);
        output = backend.Allocate<float>(Case.Shape.OutputElementCount);
        options = Case.Options;
    }

    [Benchmark]
    public void Sdpa() => backend!.ScaledDotProductAttention(Case.Shape, query!, key!, value!, output!, options);

    [GlobalCleanup]
    public void Cleanup() => Dispose();

    public void Dispose()
    {
        foreach (var tensor in new[] { query, key, value, output })
        {
            tensor?.Dispose();
        }

        backend?.Dispose();
        (query, key, value, output, backend) = (null, null, null, null, null);
        GC.SuppressFinalize(this);
    }
}
