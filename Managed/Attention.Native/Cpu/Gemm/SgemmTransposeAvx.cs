using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Attention.Native.Cpu.Gemm;

/// <summary>
/// Packs a 6-row sliver of row-major A with AVX: 8 depths of the 6 rows at a time, transposed in registers (an 8 × 8
/// transpose with two zero rows) and written as 8 overlapping vector stores of 6 useful floats each. The scalar
/// gather it replaces spent more time than a tenth of the FMA work on the attention layer's shapes.
/// </summary>
internal static unsafe class SgemmTransposeAvx
{
    private const int MR = SgemmBlocking.MR;

    /// <summary>Depths <c>[0, kc − kc % 8)</c> of rows <c>source + r·lda</c> into <c>packed[p·6 + r]</c>.</summary>
    /// <returns>The depths done; the caller packs the rest.</returns>
    /// <remarks>Writes up to 2 floats past <c>packed[kc·6]</c>: the caller's buffer has room and overwrites them.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int PackSliver(float* source, nint lda, int kc, float* packed)
    {
        float* r0 = source;
        float* r1 = r0 + lda;
        float* r2 = r1 + lda;
        float* r3 = r2 + lda;
        float* r4 = r3 + lda;
        float* r5 = r4 + lda;
        var zero = Vector256<float>.Zero;
        int p = 0;
        for (; p + 8 <= kc; p += 8)
        {
            var t0 = Avx.UnpackLow(Avx.LoadVector256(r0 + p), Avx.LoadVector256(r1 + p));
            var t1 = Avx.UnpackHigh(Avx.LoadVector256(r0 + p), Avx.LoadVector256(r1 + p));
            var t2 = Avx.UnpackLow(Avx.LoadVector256(r2 + p), Avx.LoadVector256(r3 + p));
            var t3 = Avx.UnpackHigh(Avx.LoadVector256(r2 + p), Avx.LoadVector256(r3 + p));
            var t4 = Avx.UnpackLow(Avx.LoadVector256(r4 + p), Avx.LoadVector256(r5 + p));
            var t5 = Avx.UnpackHigh(Avx.LoadVector256(r4 + p), Avx.LoadVector256(r5 + p));

            // Lanes (per 128-bit half): u0 = depth 0 rows 0-3, u1 = depth 1, u2 = depth 2, u3 = depth 3; u4..u7 the
            // same for rows 4-5 (and two zeros).
            var u0 = Avx.Shuffle(t0, t2, 0x44);
            var u1 = Avx.Shuffle(t0, t2, 0xEE);
            var u2 = Avx.Shuffle(t1, t3, 0x44);
            var u3 = Avx.Shuffle(t1, t3, 0xEE);
            var u4 = Avx.Shuffle(t4, zero, 0x44);
            var u5 = Avx.Shuffle(t4, zero, 0xEE);
            var u6 = Avx.Shuffle(t5, zero, 0x44);
            var u7 = Avx.Shuffle(t5, zero, 0xEE);

            // Ascending addresses: each store's two spare lanes are overwritten by the next.
            float* target = packed + (p * MR);
            Avx.Store(target, Avx.Permute2x128(u0, u4, 0x20));
            Avx.Store(target + MR, Avx.Permute2x128(u1, u5, 0x20));
            Avx.Store(target + (2 * MR), Avx.Permute2x128(u2, u6, 0x20));
            Avx.Store(target + (3 * MR), Avx.Permute2x128(u3, u7, 0x20));
            Avx.Store(target + (4 * MR), Avx.Permute2x128(u0, u4, 0x31));
            Avx.Store(target + (5 * MR), Avx.Permute2x128(u1, u5, 0x31));
            Avx.Store(target + (6 * MR), Avx.Permute2x128(u2, u6, 0x31));
            Avx.Store(target + (7 * MR), Avx.Permute2x128(u3, u7, 0x31));
        }

        return p;
    }
}
