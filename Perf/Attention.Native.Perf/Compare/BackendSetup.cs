using Attention.Native.Cpu;

namespace Attention.Native.Perf.Compare;

/// <summary>One backend configuration to measure: a kind, and for the CPU a thread count.</summary>
/// <param name="Kind">The backend kind.</param>
/// <param name="Threads">CPU worker threads; 0 for backends that have no such setting.</param>
internal sealed record BackendSetup(AttentionBackendKind Kind, int Threads)
{
    public AttentionBackend Create() => Kind == AttentionBackendKind.Cpu
        ? new CpuBackend(new CpuBackendOptions { ThreadCount = Threads })
        : AttentionBackend.Create(Kind);

    /// <summary>The kernel variant: <see cref="CpuBackend.Variant"/> on the CPU, the description elsewhere.</summary>
    public static string VariantOf(AttentionBackend backend) => backend switch
    {
        CpuBackend cpu => cpu.IsVariantAccelerated ? cpu.Variant.ToString() : $"{cpu.Variant} (emulated)",
        _ => backend.Description,
    };
}
