using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Attention.Native.Cpu;

/// <summary>
/// Software prefetch of K and V rows a fixed distance ahead of the decode tiles (<see cref="DecodeRowTiles{TOps,
/// TVec}"/>). A tile spends dozens of instructions per 64-byte line, so the reorder window holds too few demand misses
/// to keep DRAM busy, and the hardware prefetchers alone left the time at compute plus memory. The tiles take it as a
/// generic struct argument, so the copy that prefetches and the one that does not (<see cref="NoStreamAhead"/>, for
/// tiles re-reading rows the first one fetched) are each compiled without a branch in their loops.
/// </summary>
internal unsafe interface IStreamAhead
{
    /// <summary>Prefetches the line a fixed distance past this K element.</summary>
    void FetchKey(float* key);

    /// <summary>Prefetches the line a fixed distance past this V element.</summary>
    void FetchValue(float* value);
}

/// <summary>
/// Prefetches with the non-temporal hint, as the lines are used once; it measured at least as fast as T0/T1/T2.
/// Does nothing where the CPU has no prefetch instruction the runtime exposes (non-x86).
/// </summary>
internal readonly unsafe struct StreamAhead : IStreamAhead
{
    private readonly long keyOffset;
    private readonly long valueOffset;

    /// <param name="keyOffset">Floats from a K element to the one to prefetch.</param>
    /// <param name="valueOffset">Floats from a V element to the one to prefetch.</param>
    public StreamAhead(long keyOffset, long valueOffset)
    {
        this.keyOffset = keyOffset;
        this.valueOffset = valueOffset;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void FetchKey(float* key)
    {
        if (Sse.IsSupported)
        {
            Sse.PrefetchNonTemporal(key + keyOffset);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void FetchValue(float* value)
    {
        if (Sse.IsSupported)
        {
            Sse.PrefetchNonTemporal(value + valueOffset);
        }
    }
}

/// <summary>Prefetches nothing: for rows already fetched, or operands a conversion reads first.</summary>
internal readonly unsafe struct NoStreamAhead : IStreamAhead
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void FetchKey(float* key)
    {
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void FetchValue(float* value)
    {
    }
}
