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
    /// <summary>
    /// Steps between the one reading K and V rows and the one whose rows it prefetches (each step reads two rows of
    /// each).
    /// </summary>
    static abstract int Steps { get; }

    /// <summary>Prefetches the row of <paramref name="bytes"/> bytes at <paramref name="row"/>.</summary>
    void Fetch(byte* row, int bytes);
}

/// <summary>
/// Prefetches into all cache levels (T0). Does nothing where the CPU has no prefetch instruction the runtime exposes
/// (non-x86). Prefetches never fault, so rows past the end of the operand cost a wasted instruction, nothing more.
/// </summary>
internal readonly unsafe struct StreamAhead : IStreamAhead
{
    /// <summary>16, 32 and 64 measured alike on a [B, L, H, D] cache's strided rows.</summary>
    public static int Steps => 32;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Fetch(byte* row, int bytes) => Lines(row, bytes, level2: false);

    /// <summary>Prefetches every line of the row at <paramref name="row"/>, into L2 alone where <paramref name="level2"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Lines(byte* row, int bytes, bool level2)
    {
        if (!Sse.IsSupported)
        {
            return;
        }

        // One prefetch per 64 bytes from the row's start, and its last byte (a row not starting on a line boundary
        // ends in one more line).
        for (int x = 0; x < bytes; x += 64)
        {
            Line(row + x, level2);
        }

        Line(row + bytes - 1, level2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Line(byte* address, bool level2)
    {
        if (level2)
        {
            Sse.Prefetch1(address);
        }
        else
        {
            Sse.Prefetch0(address);
        }
    }
}

/// <summary>
/// Prefetches into L2 (T1) a few steps ahead: for a paged cache's float rows, whose streams jump to another page every
/// page's worth of rows, where the hardware prefetchers stall until they find the new stream (about 130 ns per jump
/// per stream). GQA 32/8, Lk 4096, D 128, float, pages in shuffled order, one Zen 3 thread, thread CPU time:
/// head-major pages of 16 1.82–1.99 ms to 1.66–1.77 (contiguous 1.50–1.58), of 64 1.65–1.77 to 1.57–1.59;
/// position-major 2.60–2.73 to 2.29–2.34. 2 to 6 steps measured alike, 8 lost 5–10 %; T0 matched T1 in two runs of
/// three and lost 5–8 % in the third, NTA matched T1; prefetching only the first rows of each page gained nothing. Half, BFloat16 and 8-bit rows take
/// <see cref="NarrowPageStreamAhead"/>.
/// </summary>
internal readonly unsafe struct PageStreamAhead : IStreamAhead
{
    public static int Steps => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Fetch(byte* row, int bytes) => StreamAhead.Lines(row, bytes, level2: true);
}

/// <summary>
/// <see cref="PageStreamAhead"/> for a paged cache's Half, BFloat16 and 8-bit rows where a work item is one KV head
/// (head-major pages): each head's streams jump every page's worth of rows (2 KiB of int8 at pages of 16, D 128), and
/// a loop bound by its conversions stalls at each jump. Pages of 16, head-major, shuffled, one Zen 3 thread, in one run
/// with the paged scales prefetched: MHA 32/32 int8 0.68–0.70× of contiguous to 0.73–0.78×, Half 0.87–0.89× to
/// 0.90–0.96×; GQA 32/8 Half 0.83–0.90× to 0.89–0.96×. 4 steps ahead matched 8 within the noise except on GQA Half
/// (0.89–0.93×). Where one item takes every head of a position (position-major pages) the same prefetch cost 5–15 %.
/// </summary>
internal readonly unsafe struct NarrowPageStreamAhead : IStreamAhead
{
    public static int Steps => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Fetch(byte* row, int bytes) => StreamAhead.Lines(row, bytes, level2: true);
}

/// <summary>Prefetches nothing: for rows the hardware prefetchers follow.</summary>
internal readonly unsafe struct NoStreamAhead : IStreamAhead
{
    public static int Steps => 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Fetch(byte* row, int bytes)
    {
    }
}
