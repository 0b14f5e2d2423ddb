using System.Runtime.Intrinsics.X86;
using Attention.Native.Cpu.Simd;

namespace Attention.Native.Cpu.Gemm;

/// <summary>
/// Copies blocks of op(A) and op(B) into the layouts the micro-kernel streams: A as slivers of 6 rows stored
/// k-major (<c>[k][6]</c>), B as slivers of NR = 2W columns stored k-major (<c>[k][NR]</c>). Slivers cut by the
/// matrix edge are padded with zeros, so the micro-kernel always runs its full tile. Packing is what makes the
/// transposed operands as fast as the plain ones: after it, all four combinations run the same loop. Half and BFloat16
/// are widened in <typeparamref name="TOps"/>'s variant. The 8 × 8 transposes (<see cref="SgemmTransposeAvx"/>) serve
/// the variants whose tile is a multiple of 8 wide (Vector256 and Vector512) wherever the CPU has AVX, a forced
/// Vector512 on an AVX2 machine included; they only move floats, so the packed blocks are the same either way.
/// </summary>
internal static unsafe class SgemmPacking<TOps, TVec>
    where TOps : ISimd<TVec>
    where TVec : unmanaged
{
    private const int MR = SgemmBlocking.MR;

    /// <summary>Packs rows <c>[i0, i0 + mc)</c>, depths <c>[k0, k0 + kc)</c> of op(A) into <c>⌈mc/6⌉</c> slivers.</summary>
    /// <remarks>May write 2 floats past the last sliver (<see cref="SgemmTransposeAvx.PackASliver"/>). Half and BFloat16
    /// rows are widened into <paramref name="staging"/> (6 × kc floats) first.</remarks>
    public static void PackA<T>(T* a, nint lda, bool transposed, int i0, int mc, int k0, int kc, float* packed, float* staging)
        where T : unmanaged
    {
        for (int s = 0; s < mc; s += MR, packed += kc * MR)
        {
            int rows = Math.Min(MR, mc - s);
            if (transposed)
            {
                // Stored k × m: each depth's 6 rows are adjacent, a short contiguous copy.
                T* source = a + (k0 * lda) + i0 + s;
                for (int p = 0; p < kc; p++, source += lda)
                {
                    Across(source, rows, packed + (p * MR), MR);
                }
            }
            else
            {
                // Stored m × k: a transpose of 6 rows, in registers where the ISA allows.
                float* rowsOfA = Rows(a + ((i0 + s) * lda) + k0, lda, rows, kc, staging, out nint stride);
                int done = TOps.Width >= 8 && Avx.IsSupported && rows == MR
                    ? SgemmTransposeAvx.PackASliver(rowsOfA, stride, kc, packed)
                    : 0;
                for (int r = 0; r < MR; r++)
                {
                    Along(r < rows ? rowsOfA + (r * stride) : null, done, kc, packed + r, MR);
                }
            }
        }
    }

    /// <summary>Packs depths <c>[k0, k0 + kc)</c>, columns <c>[j0, j0 + nc)</c> of op(B) into <c>⌈nc/NR⌉</c> slivers.</summary>
    /// <remarks>Half and BFloat16 columns of a transposed B are widened into <paramref name="staging"/> (NR × kc floats) first.</remarks>
    public static void PackB<T>(T* b, nint ldb, bool transposed, int k0, int kc, int j0, int nc, float* packed, float* staging)
        where T : unmanaged
    {
        int w = TOps.Width;
        int nr = 2 * w;
        for (int s = 0; s < nc; s += nr, packed += kc * nr)
        {
            int columns = Math.Min(nr, nc - s);
            if (transposed)
            {
                // Stored n × k (a weight used as Wᵀ): each column is a contiguous row of the storage; a transpose.
                float* source = Rows(b + ((j0 + s) * ldb) + k0, ldb, columns, kc, staging, out nint stride);
                int done = TOps.Width >= 8 && Avx.IsSupported && columns == nr
                    ? SgemmTransposeAvx.PackBSliver(source, stride, kc, nr, packed)
                    : 0;
                for (int j = 0; j < nr; j++)
                {
                    Along(j < columns ? source + (j * stride) : null, done, kc, packed + j, nr);
                }
            }
            else
            {
                // Stored k × n: each depth's NR columns are contiguous, two vectors when the sliver is whole.
                T* source = b + (k0 * ldb) + j0 + s;
                for (int p = 0; p < kc; p++, source += ldb)
                {
                    float* target = packed + (p * nr);
                    if (typeof(T) != typeof(float) && columns == nr)
                    {
                        HalfPrecisionConversions<TOps, TVec>.Widen(source, target, nr);
                    }
                    else if (typeof(T) == typeof(float) && columns == nr)
                    {
                        TOps.Store(target, TOps.Load((float*)source));
                        TOps.Store(target + w, TOps.Load((float*)source + w));
                    }
                    else
                    {
                        Across(source, columns, target, nr);
                    }
                }
            }
        }
    }

    /// <summary>
    /// <paramref name="count"/> rows of <paramref name="length"/> elements at stride <paramref name="ld"/> as floats:
    /// in place for float; widened (vectorised) into <paramref name="staging"/>, rows packed, for Half and BFloat16.
    /// </summary>
    private static float* Rows<T>(T* source, nint ld, int count, int length, float* staging, out nint stride)
        where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            stride = ld;
            return (float*)source;
        }

        for (int r = 0; r < count; r++)
        {
            HalfPrecisionConversions<TOps, TVec>.Widen(source + (r * ld), staging + (r * length), length);
        }

        stride = length;
        return staging;
    }

    /// <summary><c>target[0, count)</c> from <paramref name="source"/> (widened), then zeros up to <paramref name="width"/>.</summary>
    private static void Across<T>(T* source, int count, float* target, int width)
        where T : unmanaged
    {
        int i = 0;
        for (; i < count; i++)
        {
            target[i] = ElementType.ToSingle(source[i]);
        }

        for (; i < width; i++)
        {
            target[i] = 0f;
        }
    }

    /// <summary>
    /// <c>target[p·stride] = source[p]</c> for depths <c>[from, kc)</c>; zeros for all depths where there is no
    /// source (padding rows or columns).
    /// </summary>
    private static void Along(float* source, int from, int kc, float* target, int stride)
    {
        if (source is null)
        {
            for (int p = 0; p < kc; p++)
            {
                target[p * stride] = 0f;
            }

            return;
        }

        for (int p = from; p < kc; p++)
        {
            target[p * stride] = source[p];
        }
    }
}
