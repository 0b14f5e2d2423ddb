using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Attention.Native.Cpu.Gemm;

namespace Attention.Native.Cpu.Tiled;

/// <summary>
/// Moves float query rows into the tiled kernel's transposed row tiles and output tiles back into rows, eight rows by
/// eight columns at a time through an AVX 8 × 8 register transpose. Element by element these moves cost about a
/// quarter of the time at L = 64 (the seed's shape), where each item does little FMA work per row it moves.
/// </summary>
internal static unsafe class TileTransposes
{
    /// <summary>Whether the 8 × 8 moves can serve tiles of <paramref name="tileRows"/> rows on this CPU.</summary>
    public static bool IsSupported(int tileRows) => Avx.IsSupported && tileRows % 8 == 0;

    /// <summary>
    /// <c>target[x·targetStride + i] = source[i·rowStride + x]·factor</c> for the 8 rows <c>i</c> and the depths
    /// <c>x &lt; dim − dim % 8</c>.
    /// </summary>
    /// <returns>The depths done; the caller moves the rest.</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int LoadRows(float* source, nint rowStride, int dim, float factor, float* target, nint targetStride)
    {
        var scale = Vector256.Create(factor);
        int x = 0;
        for (; x + 8 <= dim; x += 8)
        {
            TransposeScaled(source + x, rowStride, scale, target + (x * targetStride), targetStride);
        }

        return x;
    }

    /// <summary>
    /// <c>rows[i·rowStride + c] = source[c·sourceStride + i]·scales[i]</c> for the 8 rows <c>i</c> and the columns
    /// <c>c &lt; width − width % 8</c>.
    /// </summary>
    /// <returns>The columns done; the caller moves the rest.</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int StoreRows(float* source, nint sourceStride, int width, float* scales, float* rows, nint rowStride)
    {
        // Lanes of a loaded column are the 8 rows, so one multiply scales each row by its own factor.
        var scale = Avx.LoadVector256(scales);
        int c = 0;
        for (; c + 8 <= width; c += 8)
        {
            TransposeScaled(source + (c * sourceStride), sourceStride, scale, rows + c, rowStride);
        }

        return c;
    }

    /// <summary>Lane <c>p</c> of <c>(source + i·stride)[0..8]·scale</c> to <c>target[p·targetStride + i]</c>, <c>p, i &lt; 8</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TransposeScaled(float* source, nint stride, Vector256<float> scale, float* target, nint targetStride) =>
        SgemmTransposeAvx.TransposeStore(
            Avx.Multiply(Avx.LoadVector256(source), scale),
            Avx.Multiply(Avx.LoadVector256(source + stride), scale),
            Avx.Multiply(Avx.LoadVector256(source + (2 * stride)), scale),
            Avx.Multiply(Avx.LoadVector256(source + (3 * stride)), scale),
            Avx.Multiply(Avx.LoadVector256(source + (4 * stride)), scale),
            Avx.Multiply(Avx.LoadVector256(source + (5 * stride)), scale),
            Avx.Multiply(Avx.LoadVector256(source + (6 * stride)), scale),
            Avx.Multiply(Avx.LoadVector256(source + (7 * stride)), scale),
            target,
            targetStride);
}
