using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using Attention.Native.Cpu.Simd;

namespace Attention.Native.Cpu;

/// <summary>How the tiled kernel sees K and V rows as floats, in its variant (<typeparamref name="TOps"/>).</summary>
internal static unsafe class OperandRows<TOps, TVec>
    where TOps : ISimd<TVec>
    where TVec : unmanaged
{
    /// <summary>
    /// <paramref name="count"/> K or V rows starting at row <paramref name="first"/>, as floats: in place for float
    /// tensors (with their own stride), converted into <paramref name="converted"/> for Half and BFloat16.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float* AsFloat<T>(
        T* tensor, long offset, long stride, int first, int count, int dim, float* converted, out long rowStride)
        where T : unmanaged
    {
        T* rows = tensor + offset + (first * stride);
        if (typeof(T) == typeof(float))
        {
            rowStride = stride;
            return (float*)rows;
        }

        for (int j = 0; j < count; j++)
        {
            T* source = rows + (j * stride);
            FetchNextBlockRow(source, count, stride, dim);
            HalfPrecisionConversions<TOps, TVec>.Widen(source, converted + (j * dim), dim);
        }

        rowStride = dim;
        return converted;
    }

    /// <summary>
    /// <paramref name="count"/> K or V rows starting at row <paramref name="first"/> as floats exactly
    /// <paramref name="dim"/> apart: in place for float rows that already are, else copied (float) or converted (Half,
    /// BFloat16) into <paramref name="staged"/>, prefetching the first <paramref name="ahead"/> rows of the next block
    /// as it goes.
    /// </summary>
    /// <remarks>
    /// Rows a head stride apart (<c>[B, L, H, D]</c>, a packed projection's view) are followed by no hardware
    /// prefetcher, so in place each new block waits on L3. One pass over a block's rows, copying them while the same rows
    /// of the next block are prefetched, hides that wait; the copy also lays the block on consecutive L1 sets for the
    /// row tiles that re-read it (a 2 KB stride maps every row onto 8 of 64 sets).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float* AsContiguousFloat<T>(
        T* tensor, long offset, long stride, int first, int count, int dim, float* staged, int ahead)
        where T : unmanaged
    {
        if (typeof(T) != typeof(float) || stride == dim)
        {
            return AsFloat(tensor, offset, stride, first, count, dim, staged, out _);
        }

        float* rows = (float*)tensor + offset + (first * stride);
        for (int j = 0; j < count; j++)
        {
            float* source = rows + (j * stride);
            if (j < ahead)
            {
                FetchNextBlockRow(source, count, stride, dim);
            }

            new ReadOnlySpan<float>(source, dim).CopyTo(new Span<float>(staged + (j * dim), dim));
        }

        return staged;
    }

    /// <summary>
    /// Prefetches the <paramref name="count"/> rows from row <paramref name="first"/> of a strided float tensor into
    /// L1: an item's first block, which no earlier block of the item prefetched (<see cref="AsContiguousFloat"/>), so
    /// that its rows are on their way while the item loads its queries.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void FetchBlock<T>(T* tensor, long offset, long stride, int first, int count, int dim)
        where T : unmanaged
    {
        if (Sse.IsSupported && typeof(T) == typeof(float) && stride != dim)
        {
            byte* rows = (byte*)(tensor + offset + (first * stride));
            for (int j = 0; j < count; j++)
            {
                byte* row = rows + (j * stride * sizeof(float));
                for (int b = 0; b < dim * sizeof(float); b += 64)
                {
                    Sse.Prefetch0(row + b);
                }
            }
        }
    }

    /// <summary>
    /// Prefetches the row <paramref name="count"/> rows after <paramref name="source"/>: the same row of the next
    /// block. Rows of a head are strided (a KV cache's [B, L, H, D] puts each in its own page), so neither the hardware
    /// prefetchers nor the reorder window keep enough of them in flight: a Half decoding step (E 1024, 2048 cached)
    /// took 12.4 ms without this, 5.5 with it (float 3.3).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FetchNextBlockRow<T>(T* source, int count, long stride, int dim)
        where T : unmanaged
    {
        if (Sse.IsSupported)
        {
            byte* next = (byte*)(source + (count * stride));
            for (int b = 0; b < dim * sizeof(T); b += 64)
            {
                Sse.PrefetchNonTemporal(next + b);
            }
        }
    }
}

/// <summary>How the CPU kernels carve their scratch memory.</summary>
internal static unsafe class OperandRows
{
    /// <summary>Reserves <paramref name="floats"/> of scratch at a 64-byte boundary and returns its offset.</summary>
    public static int TakeScratch(ref int offset, int floats)
    {
        int start = offset;
        offset += (floats + 15) & ~15;
        return start;
    }

    /// <summary><see cref="TakeScratch(ref int, int)"/> for layouts whose sizes may pass int range.</summary>
    public static long TakeScratch(ref long offset, long floats)
    {
        long start = offset;
        offset += (floats + 15) & ~15L;
        return start;
    }
}
