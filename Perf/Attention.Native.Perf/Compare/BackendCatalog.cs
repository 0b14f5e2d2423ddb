using Attention.Native.Cpu;
using Attention.Native.Cpu.Simd;
using Attention.Native.Cuda;

namespace Attention.Native.Perf.Compare;

/// <summary>The backends present in this build and on this machine.</summary>
internal static class BackendCatalog
{
    /// <summary>The CPU at each thread count and variant, then every other kind that can be created here: CUDA where
    /// <see cref="CudaBackend.IsAvailable"/> finds a device and a backend can be created on it.</summary>
    /// <param name="kinds">The kinds to measure (<c>--backends</c>); null for every kind present.</param>
    /// <param name="threadCounts">CPU thread counts, in the order to run them.</param>
    /// <param name="variants">CPU kernel variants per thread count (<see cref="CpuKernelVariant.Auto"/>: the best);
    /// variants that resolve to the same kernel are measured once.</param>
    /// <param name="absent">Filled with one line per kind that could not be created, and why.</param>
    public static IReadOnlyList<BackendSetup> Discover(
        IReadOnlyCollection<AttentionBackendKind>? kinds,
        IEnumerable<int> threadCounts,
        IReadOnlyList<CpuKernelVariant> variants,
        List<string> absent)
    {
        var setups = new List<BackendSetup>();
        if (kinds is null || kinds.Contains(AttentionBackendKind.Cpu))
        {
            // Auto resolves as CpuBackend resolves it (ATTENTION_NATIVE_CPU_VARIANT, else the widest accelerated).
            var resolved = variants.DistinctBy(v => v == CpuKernelVariant.Auto ? CpuIsa.Resolve(v) : v).ToList();
            setups.AddRange(threadCounts.SelectMany(t => resolved.Select(v => new BackendSetup(AttentionBackendKind.Cpu, t, v))));
        }

        foreach (var kind in Enum.GetValues<AttentionBackendKind>())
        {
            if (kind is AttentionBackendKind.Auto or AttentionBackendKind.Cpu || (kinds is not null && !kinds.Contains(kind)))
            {
                continue;
            }

            if (kind == AttentionBackendKind.Cuda && !CudaBackend.IsAvailable(out string reason))
            {
                absent.Add($"{kind}: {reason}");
                continue;
            }

            try
            {
                AttentionBackend.Create(kind).Dispose();
                setups.Add(new BackendSetup(kind, 0));
            }
            catch (Exception e) when (e is NotSupportedException or CudaException)
            {
                absent.Add($"{kind}: {e.Message}");
            }
        }

        return setups;
    }
}
