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

        int rowBytes = dim * sizeof(T);
        for (int j = 0; j < count; j++)
        {
            T* source = rows + (j * stride);
            float* target = converted + (j * dim);
            if (Sse.IsSupported)
            {
                // The same row of the next block: rows of a head are strided (a KV cache's [B, L, H, D] puts each in
                // its own page), so neither the hardware prefetchers nor the reorder window keep enough of them in
                // flight: a Half decoding step (E 1024, 2048 cached) took 12.4 ms without this, 5.5 with it (float 3.3).
                byte* next = (byte*)(source + (count * stride));
                for (int b = 0; b < rowBytes; b += 64)
                {
                    Sse.PrefetchNonTemporal(next + b);
                }
            }

            HalfPrecisionConversions<TOps, TVec>.Widen(source, target, dim);
        }

        rowStride = dim;
        return converted;
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
