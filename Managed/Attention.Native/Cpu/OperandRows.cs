using System.Runtime.CompilerServices;
using Attention.Native.Cpu.Simd;

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
            ushort* source = (ushort*)(rows + (j * stride));
            float* target = converted + (j * dim);
            if (typeof(T) == typeof(Half))
            {
                HalfPrecisionConversions.WidenHalf(source, target, dim);
            }
            else
            {
                HalfPrecisionConversions.WidenBFloat16(source, target, dim);
            }
        }

        rowStride = dim;
        return converted;
    }

    /// <summary>The scalar remainder of a dot product past the last full vector (the decode kernel's loops).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float DotTail(float* q, float* k, int from, int dim)
    {
        float sum = 0;
        for (int x = from; x < dim; x++)
        {
            sum += q[x] * k[x];
        }

        return sum;
    }

    /// <summary>Reserves <paramref name="floats"/> of scratch at a 64-byte boundary and returns its offset.</summary>
    public static int TakeScratch(ref int offset, int floats)
    {
        int start = offset;
        offset += (floats + 15) & ~15;
        return start;
    }
}
