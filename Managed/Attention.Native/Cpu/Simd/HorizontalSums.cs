using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Attention.Native.Cpu.Simd;

/// <summary>
/// The lane sums of eight accumulators at once, for dot products that end in a horizontal sum per (row, key). One
/// <see cref="ISimd{TVec}.Sum"/> is about eleven instructions, as many as the FMAs of a D = 128 dot product's tail
/// end; an AVX add-pairs tree reduces eight accumulators in about a dozen instructions in all.
/// </summary>
internal static unsafe class HorizontalSums<TOps, TVec>
    where TOps : ISimd<TVec>
    where TVec : unmanaged
{
    /// <summary>
    /// Sums of four rows × two keys (<c>a{row}{key}</c>): <c>s_r[0] = Σ a_r0</c>, <c>s_r[1] = Σ a_r1</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreFourRowsTwoKeys(
        TVec a00, TVec a01, TVec a10, TVec a11, TVec a20, TVec a21, TVec a30, TVec a31,
        float* s0, float* s1, float* s2, float* s3)
    {
        if (Avx.IsSupported && (typeof(TVec) == typeof(Vector256<float>) || typeof(TVec) == typeof(Vector512<float>)))
        {
            // After two rounds of add-pairs each 128-bit half holds [r0k0, r0k1, r1k0, r1k1] (resp. rows 2 and 3)
            // over its own lanes; adding the halves finishes the sums.
            var g0 = Avx.HorizontalAdd(Avx.HorizontalAdd(Fold(a00), Fold(a01)), Avx.HorizontalAdd(Fold(a10), Fold(a11)));
            var g1 = Avx.HorizontalAdd(Avx.HorizontalAdd(Fold(a20), Fold(a21)), Avx.HorizontalAdd(Fold(a30), Fold(a31)));
            var rows01 = g0.GetLower() + g0.GetUpper();
            var rows23 = g1.GetLower() + g1.GetUpper();
            Sse.StoreLow(s0, rows01);
            Sse.StoreHigh(s1, rows01);
            Sse.StoreLow(s2, rows23);
            Sse.StoreHigh(s3, rows23);
            return;
        }

        s0[0] = TOps.Sum(a00);
        s0[1] = TOps.Sum(a01);
        s1[0] = TOps.Sum(a10);
        s1[1] = TOps.Sum(a11);
        s2[0] = TOps.Sum(a20);
        s2[1] = TOps.Sum(a21);
        s3[0] = TOps.Sum(a30);
        s3[1] = TOps.Sum(a31);
    }

    /// <summary>Sums of eight accumulators into <c>s[0..8)</c>, in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreEight(TVec a0, TVec a1, TVec a2, TVec a3, TVec a4, TVec a5, TVec a6, TVec a7, float* s)
    {
        if (Avx.IsSupported && (typeof(TVec) == typeof(Vector256<float>) || typeof(TVec) == typeof(Vector512<float>)))
        {
            // Each half of g0 holds partial sums of a0..a3 over its lanes, each half of g1 those of a4..a7.
            var g0 = Avx.HorizontalAdd(Avx.HorizontalAdd(Fold(a0), Fold(a1)), Avx.HorizontalAdd(Fold(a2), Fold(a3)));
            var g1 = Avx.HorizontalAdd(Avx.HorizontalAdd(Fold(a4), Fold(a5)), Avx.HorizontalAdd(Fold(a6), Fold(a7)));
            var sums = Avx.Permute2x128(g0, g1, 0x20) + Avx.Permute2x128(g0, g1, 0x31);
            sums.Store(s);
            return;
        }

        s[0] = TOps.Sum(a0);
        s[1] = TOps.Sum(a1);
        s[2] = TOps.Sum(a2);
        s[3] = TOps.Sum(a3);
        s[4] = TOps.Sum(a4);
        s[5] = TOps.Sum(a5);
        s[6] = TOps.Sum(a6);
        s[7] = TOps.Sum(a7);
    }

    /// <summary>The accumulator as eight lanes whose sum is its lane sum (a 512-bit one folded in half).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fold(TVec value)
    {
        if (typeof(TVec) == typeof(Vector512<float>))
        {
            var wide = Unsafe.BitCast<TVec, Vector512<float>>(value);
            return wide.GetLower() + wide.GetUpper();
        }

        return Unsafe.BitCast<TVec, Vector256<float>>(value);
    }
}
