using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Attention.Native.Cpu.Gemm;

/// <summary>
/// The packing's transposes with AVX: 8 depths of 8 rows (or columns) at a time, an 8 × 8 transpose in registers
/// written as 8 vector stores. The scalar gathers they replace cost more than a tenth of the FMA work on the
/// attention layer's shapes (row-major A; a transposed weight B).
/// </summary>
internal static unsafe class SgemmTransposeAvx
{
    private const int MR = SgemmBlocking.MR;

    /// <summary>Depths <c>[0, kc − kc % 8)</c> of the 6 rows <c>source + r·lda</c> into <c>packed[p·6 + r]</c>.</summary>
    /// <returns>The depths done; the caller packs the rest.</returns>
    /// <remarks>
    /// Each store writes 8 floats of which 6 are wanted, ascending, so the next store overwrites the spare two; the
    /// last runs 2 floats past <c>packed[kc·6]</c>, which the caller's buffer has room for and overwrites.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int PackASliver(float* source, nint lda, int kc, float* packed)
    {
        var zero = Vector256<float>.Zero;
        int p = 0;
        for (; p + 8 <= kc; p += 8)
        {
            float* s = source + p;
            TransposeStore(
                Avx.LoadVector256(s), Avx.LoadVector256(s + lda), Avx.LoadVector256(s + (2 * lda)),
                Avx.LoadVector256(s + (3 * lda)), Avx.LoadVector256(s + (4 * lda)), Avx.LoadVector256(s + (5 * lda)),
                zero, zero, packed + (p * MR), MR);
        }

        return p;
    }

    /// <summary>
    /// Depths <c>[0, kc − kc % 8)</c> of the <paramref name="nr"/> (a multiple of 8) columns <c>source + j·ldb</c>
    /// into <c>packed[p·nr + j]</c>.
    /// </summary>
    /// <returns>The depths done; the caller packs the rest.</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int PackBSliver(float* source, nint ldb, int kc, int nr, float* packed)
    {
        int p = 0;
        for (; p + 8 <= kc; p += 8)
        {
            for (int j = 0; j < nr; j += 8)
            {
                float* s = source + (j * ldb) + p;
                TransposeStore(
                    Avx.LoadVector256(s), Avx.LoadVector256(s + ldb), Avx.LoadVector256(s + (2 * ldb)),
                    Avx.LoadVector256(s + (3 * ldb)), Avx.LoadVector256(s + (4 * ldb)), Avx.LoadVector256(s + (5 * ldb)),
                    Avx.LoadVector256(s + (6 * ldb)), Avx.LoadVector256(s + (7 * ldb)), packed + (p * nr) + j, nr);
            }
        }

        return p;
    }

    /// <summary>Lane <c>p</c> of each <c>r_i</c> to <c>target[p·stride + i]</c>, <c>p, i &lt; 8</c>, in ascending order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void TransposeStore(
        Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7, float* target, nint stride)
    {
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);

        // Per 128-bit half: u0..u3 = depths 0..3 of rows 0-3, u4..u7 = the same depths of rows 4-7.
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);

        Avx.Store(target, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(target + stride, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(target + (2 * stride), Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(target + (3 * stride), Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(target + (4 * stride), Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(target + (5 * stride), Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(target + (6 * stride), Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(target + (7 * stride), Avx.Permute2x128(u3, u7, 0x31));
    }
}
