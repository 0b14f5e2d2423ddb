using System.Runtime.Intrinsics.X86;
using Attention.Native.Cpu.Simd;

namespace Attention.Native.Cpu.Gemm;

/// <summary>
/// Copies blocks of op(A) and op(B) into the layouts the micro-kernel streams: A as slivers of 6 rows stored
/// k-major (<c>[k][6]</c>), B as slivers of NR = 2W columns stored k-major (<c>[k][NR]</c>). Slivers cut by the
/// matrix edge are padded with zeros, so the micro-kernel always runs its full tile. Packing is what makes the
/// transposed operands as fast as the plain ones: after it, all four combinations run the same loop.
/// </summary>
internal static unsafe class SgemmPacking<TOps, TVec>
    where TOps : ISimd<TVec>
    where TVec : unmanaged
{
    private const int MR = SgemmBlocking.MR;

    /// <summary>Packs rows <c>[i0, i0 + mc)</c>, depths <c>[k0, k0 + kc)</c> of op(A) into <c>⌈mc/6⌉</c> slivers.</summary>
    /// <remarks>May write 2 floats past the last sliver (<see cref="SgemmTransposeAvx.PackASliver"/>).</remarks>
    public static void PackA(float* a, nint lda, bool transposed, int i0, int mc, int k0, int kc, float* packed)
    {
        for (int s = 0; s < mc; s += MR, packed += kc * MR)
        {
            int rows = Math.Min(MR, mc - s);
            if (transposed)
            {
                // Stored k × m: each depth's 6 rows are adjacent, a short contiguous copy.
                float* source = a + (k0 * lda) + i0 + s;
                for (int p = 0; p < kc; p++, source += lda)
                {
                    Across(source, rows, packed + (p * MR), MR);
                }
            }
            else
            {
                // Stored m × k: a transpose of 6 rows, in registers where the ISA allows.
                int done = TOps.Width >= 8 && Avx.IsSupported && rows == MR
                    ? SgemmTransposeAvx.PackASliver(a + ((i0 + s) * lda) + k0, lda, kc, packed)
                    : 0;
                for (int r = 0; r < MR; r++)
                {
                    Along(r < rows ? a + ((i0 + s + r) * lda) + k0 : null, done, kc, packed + r, MR);
                }
            }
        }
    }

    /// <summary>Packs depths <c>[k0, k0 + kc)</c>, columns <c>[j0, j0 + nc)</c> of op(B) into <c>⌈nc/NR⌉</c> slivers.</summary>
    public static void PackB(float* b, nint ldb, bool transposed, int k0, int kc, int j0, int nc, float* packed)
    {
        int w = TOps.Width;
        int nr = 2 * w;
        for (int s = 0; s < nc; s += nr, packed += kc * nr)
        {
            int columns = Math.Min(nr, nc - s);
            if (transposed)
            {
                // Stored n × k (a weight used as Wᵀ): each column is a contiguous row of the storage; a transpose.
                float* source = b + ((j0 + s) * ldb) + k0;
                int done = TOps.Width >= 8 && Avx.IsSupported && columns == nr
                    ? SgemmTransposeAvx.PackBSliver(source, ldb, kc, nr, packed)
                    : 0;
                for (int j = 0; j < nr; j++)
                {
                    Along(j < columns ? source + (j * ldb) : null, done, kc, packed + j, nr);
                }
            }
            else
            {
                // Stored k × n: each depth's NR columns are contiguous, two vectors when the sliver is whole.
                float* source = b + (k0 * ldb) + j0 + s;
                for (int p = 0; p < kc; p++, source += ldb)
                {
                    float* target = packed + (p * nr);
                    if (columns == nr)
                    {
                        TOps.Store(target, TOps.Load(source));
                        TOps.Store(target + w, TOps.Load(source + w));
                    }
                    else
                    {
                        Across(source, columns, target, nr);
                    }
                }
            }
        }
    }

    /// <summary><c>target[0, count)</c> from <paramref name="source"/>, then zeros up to <paramref name="width"/>.</summary>
    private static void Across(float* source, int count, float* target, int width)
    {
        int i = 0;
        for (; i < count; i++)
        {
            target[i] = source[i];
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
