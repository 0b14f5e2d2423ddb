using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Attention.Native.Cpu;

/// <summary>Helpers both CPU kernels use to see operand rows as floats and to carve their scratch memory.</summary>
internal static unsafe class OperandRows
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
            float* target = converted + (j * dim);
            for (int x = 0; x < dim; x++)
            {
                target[x] = ElementType.ToSingle(source[x]);
            }
        }

        rowStride = dim;
        return converted;
    }

    /// <summary>
    /// Asks for the next block's K or V rows while this block computes, so that the block after this one comes from
    /// L1/L2 rather than L3 or memory: both kernels stream through K and V block by block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prefetch(float* rows, long stride, int count, int dim)
    {
        if (!Sse.IsSupported)
        {
            return;
        }

        for (int j = 0; j < count; j++)
        {
            byte* row = (byte*)(rows + (j * stride));
            for (int offset = 0; offset < dim * sizeof(float); offset += 64)
            {
                Sse.Prefetch0(row + offset);
            }
        }
    }

    /// <summary>Reserves <paramref name="floats"/> of scratch at a 64-byte boundary and returns its offset.</summary>
    public static int TakeScratch(ref int offset, int floats)
    {
        int start = offset;
        offset += (floats + 15) & ~15;
        return start;
    }
}
