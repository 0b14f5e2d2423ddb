using Attention.Native.Cpu;
using Attention.Native.Perf.Gemm;
using BenchmarkDotNet.Attributes;

namespace Attention.Native.Perf.Bench;

/// <summary>
/// The CPU SGEMM on the <c>gemm</c> command's shapes (cubes, the attention layer's projections with the weight
/// plain and transposed) at 1 and 2 threads: <c>./build.sh bench '*Gemm*'</c>.
/// </summary>
public class GemmBenchmarks
{
    public const string ShapeParameter = nameof(Shape);

    private GemmOperands? operands;

    public static IEnumerable<GemmShape> Shapes => GemmShape.All;

    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; } = GemmShape.All[0];

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup() => operands = GemmOperands.Create(Shape, new Random(42));

    [Benchmark]
    public void Sgemm() => operands!.Multiply(Shape, Threads, CpuKernelVariant.Auto);
}
