using Attention.Native.Cuda;

namespace Attention.Native.Perf.Compare;

/// <summary>The backends present in this build and on this machine.</summary>
internal static class BackendCatalog
{
    /// <summary>The CPU at each thread count, then every other kind that can be created here: CUDA where
    /// <see cref="CudaBackend.IsAvailable"/> finds a device and a backend can be created on it.</summary>
    /// <param name="threadCounts">CPU thread counts, in the order to run them.</param>
    /// <param name="absent">Filled with one line per kind that could not be created, and why.</param>
    public static IReadOnlyList<BackendSetup> Discover(IEnumerable<int> threadCounts, List<string> absent)
    {
        var setups = threadCounts.Select(t => new BackendSetup(AttentionBackendKind.Cpu, t)).ToList();
        foreach (var kind in Enum.GetValues<AttentionBackendKind>())
        {
            if (kind is AttentionBackendKind.Auto or AttentionBackendKind.Cpu)
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
