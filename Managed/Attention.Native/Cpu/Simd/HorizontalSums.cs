using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Attention.Native.Cpu.Simd;

/// <summary>
/// The lane sums of four or eight accumulators at once, for dot products that end in a horizontal sum per (row, key). One
/// <see cref="ISimd{TVec}.Sum"/> is about eleven instructions, as many as the FMAs of a D = 128 dot product's tail
/// end; an AVX add-pairs tree reduces eight accumulators in about a dozen instructions in all.
/// </summary>
internal static unsafe class HorizontalSums<TOps, TVec>
    where TOps : ISimd<TVec>
    where TVec : unmanaged
{
    /// <summary>
    /// Sums of four rows × two keys <paramref name="distance"/> floats apart in each row's scores: <c>s_r[0] = Σ a_r0</c>,
    /// <c>s_r[distance] = Σ a_r1</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreFourRowsKeyPair(
        TVec a00, TVec a01, TVec a10, TVec a11, TVec a20, TVec a21, TVec a30, TVec a31,
        float* s0, float* s1, float* s2, float* s3, int distance)
    {
        if (Avx.IsSupported && (typeof(TVec) == typeof(Vector256<float>) || typeof(TVec) == typeof(Vector512<float>)))
        {
            var g0 = Avx.HorizontalAdd(Avx.HorizontalAdd(Fold(a00), Fold(a01)), Avx.HorizontalAdd(Fold(a10), Fold(a11)));
            var g1 = Avx.HorizontalAdd(Avx.HorizontalAdd(Fold(a20), Fold(a21)), Avx.HorizontalAdd(Fold(a30), Fold(a31)));
            var rows01 = g0.GetLower() + g0.GetUpper();
            var rows23 = g1.GetLower() + g1.GetUpper();
            *s0 = rows01.ToScalar();
            s0[distance] = rows01.GetElement(1);
            *s1 = rows01.GetElement(2);
            s1[distance] = rows01.GetElement(3);
            *s2 = rows23.ToScalar();
            s2[distance] = rows23.GetElement(1);
            *s3 = rows23.GetElement(2);
            s3[distance] = rows23.GetElement(3);
            return;
        }

        *s0 = TOps.Sum(a00);
        s0[distance] = TOps.Sum(a01);
        *s1 = TOps.Sum(a10);
        s1[distance] = TOps.Sum(a11);
        *s2 = TOps.Sum(a20);
        s2[distance] = TOps.Sum(a21);
        *s3 = TOps.Sum(a30);
        s3[distance] = TOps.Sum(a31);
    }

    /// <summary>Sums of four accumulators, one per row: <c>*s_r = Σ a_r</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreFour(TVec a0, TVec a1, TVec a2, TVec a3, float* s0, float* s1, float* s2, float* s3)
    {
        if (Avx.IsSupported && (typeof(TVec) == typeof(Vector256<float>) || typeof(TVec) == typeof(Vector512<float>)))
        {
            // Two rounds of add-pairs leave [a0, a1, a2, a3] partial sums in each 128-bit half.
            var g = Avx.HorizontalAdd(Avx.HorizontalAdd(Fold(a0), Fold(a1)), Avx.HorizontalAdd(Fold(a2), Fold(a3)));
            var sums = g.GetLower() + g.GetUpper();
            *s0 = sums.ToScalar();
            *s1 = sums.GetElement(1);
            *s2 = sums.GetElement(2);
            *s3 = sums.GetElement(3);
            return;
        }

        *s0 = TOps.Sum(a0);
        *s1 = TOps.Sum(a1);
        *s2 = TOps.Sum(a2);
        *s3 = TOps.Sum(a3);
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
