using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Attention.Native.Cpu.Decode;

/// <summary>
/// Software prefetch of K and V rows a fixed number of steps ahead of the decode kernel's loop (<see
/// cref="DecodeAttentionKernel{TOps, TVec}"/>), for rows with gaps between them, where the hardware prefetchers lose
/// the stream at every row. The prefetches walk each row start to end, in address order, whatever order the loop
/// reads its rows in: prefetching rows a vector at a time, as register tiles read them, moved 11–13 GB/s where address
/// order moved 15–16 (one Zen 3 core, 128 MiB of 512-byte rows; a plain sum reads 17–19). The loop takes it as a
/// generic struct argument, so the copy that prefetches and the one that does not (<see cref="NoStreamAhead"/>) are
/// each compiled without a branch.
/// </summary>
internal unsafe interface IStreamAhead
{
    /// <summary>Prefetches the row of <paramref name="bytes"/> bytes at <paramref name="row"/>.</summary>
    void Fetch(byte* row, int bytes);
}

/// <summary>
/// Prefetches into all cache levels (T0). Does nothing where the CPU has no prefetch instruction the runtime exposes
/// (non-x86). Prefetches never fault, so rows past the end of the operand cost a wasted instruction, nothing more.
/// </summary>
internal readonly unsafe struct StreamAhead : IStreamAhead
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Fetch(byte* row, int bytes)
    {
        if (!Sse.IsSupported)
        {
            return;
        }

        // One prefetch per 64 bytes from the row's start, and its last byte (a row not starting on a line boundary
        // ends in one more line).
        for (int x = 0; x < bytes; x += 64)
        {
            Sse.Prefetch0(row + x);
        }

        Sse.Prefetch0(row + bytes - 1);
    }
}

/// <summary>Prefetches nothing: for rows the hardware prefetchers follow.</summary>
internal readonly unsafe struct NoStreamAhead : IStreamAhead
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Fetch(byte* row, int bytes)
    {
    }
}
