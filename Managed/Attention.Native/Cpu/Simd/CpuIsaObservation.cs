namespace Attention.Native.Cpu.Simd;

/// <summary>The variants each operation ran with while open (<see cref="CpuIsaObserver.Observe"/>); thread-safe.</summary>
internal sealed class CpuIsaObservation : IDisposable
{
    private readonly int[] seen = new int[Enum.GetValues<CpuOperation>().Length];
    private readonly Action<CpuIsaObservation> close;
    private bool closed;

    internal CpuIsaObservation(CpuIsaObservation? outer, Action<CpuIsaObservation> close)
    {
        Outer = outer;
        this.close = close;
    }

    /// <summary>The observation open when this one was started (restored when this one closes).</summary>
    internal CpuIsaObservation? Outer { get; }

    /// <summary>The variants <paramref name="operation"/> ran with, widest first; empty if it did not run.</summary>
    public IReadOnlyList<CpuKernelVariant> Variants(CpuOperation operation)
    {
        int mask = Volatile.Read(ref seen[(int)operation]);
        return [.. Enum.GetValues<CpuKernelVariant>().Where(variant => (mask & (1 << (int)variant)) != 0)];
    }

    public void Dispose()
    {
        if (!closed)
        {
            closed = true;
            close(this);
        }
    }

    internal void Add(CpuOperation operation, CpuKernelVariant variant) =>
        Interlocked.Or(ref seen[(int)operation], 1 << (int)variant);
}
