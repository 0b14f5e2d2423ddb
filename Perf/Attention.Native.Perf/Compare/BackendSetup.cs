using Attention.Native.Cpu.Decode;
using Attention.Native.Cpu;

namespace Attention.Native.Perf.Compare;

/// <summary>One backend configuration to measure: a kind, and for the CPU a thread count and a kernel variant.</summary>
/// <param name="Kind">The backend kind.</param>
/// <param name="Threads">CPU worker threads; 0 for backends that have no such setting.</param>
/// <param name="Variant">The CPU kernel variant; <see cref="CpuKernelVariant.Auto"/> (the best one) elsewhere.</param>
internal sealed record BackendSetup(AttentionBackendKind Kind, int Threads, CpuKernelVariant Variant = CpuKernelVariant.Auto)
{
    public AttentionBackend Create() => Kind == AttentionBackendKind.Cpu
        ? new CpuBackend(new CpuBackendOptions { ThreadCount = Threads, Variant = Variant })
        : AttentionBackend.Create(Kind);

    /// <summary>The kernel variant: <see cref="CpuBackend.Variant"/> on the CPU, the description elsewhere.</summary>
    public static string VariantOf(AttentionBackend backend) => backend switch
    {
        CpuBackend cpu => cpu.IsVariantAccelerated ? cpu.Variant.ToString() : $"{cpu.Variant} (emulated)",
        _ => backend.Description,
    };

    /// <summary>
    /// The kernel that runs <paramref name="perfCase"/>: on the CPU <c>decode</c> when the library's
    /// <see cref="CpuKernels.UsesDecodeKernel"/> rule picks it (Lq ≤ 4 and no probabilities output; compare never
    /// passes one), else <c>tiled</c>; <c>simt</c> on CUDA.
    /// </summary>
    public string KernelOf(Workloads.PerfCase perfCase) => Kind switch
    {
        AttentionBackendKind.Cpu =>
            perfCase.Shape.QueryLength <= DecodeAttentionKernel<Cpu.Simd.ScalarOps, float>.MaxQueryLength ? "decode" : "tiled",
        AttentionBackendKind.Cuda => "simt",
        _ => Kind.ToString().ToLowerInvariant(),
    };
}
