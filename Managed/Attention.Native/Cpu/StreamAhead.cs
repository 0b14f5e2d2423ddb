using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Attention.Native.Cpu;

/// <summary>
/// Software prefetch of K and V rows a fixed distance ahead of the decode tiles (<see cref="DecodeRowTiles{TOps,
/// TVec}"/>). Their loops spend ~30 instructions per 64-byte line, so the reorder window holds too few demand misses
/// to keep DRAM busy, and the hardware prefetchers alone left the time at compute plus memory. Non-temporal hints,
/// as the lines are used once, measured at least as fast as T0/T1/T2. The default instance prefetches nothing.
/// </summary>
internal readonly unsafe struct StreamAhead
{
    private readonly long keyOffset;
    private readonly long valueOffset;

    /// <param name="keyOffset">Floats from a K element to the one to prefetch.</param>
    /// <param name="valueOffset">Floats from a V element to the one to prefetch.</param>
    public StreamAhead(long keyOffset, long valueOffset)
    {
        this.keyOffset = keyOffset;
        this.valueOffset = valueOffset;
        Active = Sse.IsSupported;
    }

    /// <summary>Whether anything is prefetched (an x86 CPU and a constructed instance).</summary>
    public bool Active { get; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void FetchKey(float* key) => Sse.PrefetchNonTemporal(key + keyOffset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void FetchValue(float* value) => Sse.PrefetchNonTemporal(value + valueOffset);
}
