namespace Attention.Native.Perf.Compare;

/// <summary>The backends present in this build and on this machine.</summary>
internal static class BackendCatalog
{
    /// <summary>The CPU at each thread count, then every other kind that can be created here.</summary>
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

            try
            {
                AttentionBackend.Create(kind).Dispose();
                setups.Add(new BackendSetup(kind, 0));
            }
            catch (NotSupportedException e)
            {
                absent.Add($"{kind}: {e.Message}");
            }
        }

        return setups;
    }
}
