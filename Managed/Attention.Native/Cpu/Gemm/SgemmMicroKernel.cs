using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using Attention.Native.Cpu.Simd;

namespace Attention.Native.Cpu.Gemm;

/// <summary>
/// The register tile: <c>C[6 × 2W] = α·Ã·B̃ + β·C</c> from a packed A sliver (<c>[k][6]</c>) and a packed B sliver
/// (<c>[k][2W]</c>). One copy per ISA width through <typeparamref name="TOps"/>: 6 × 16 with 12 YMM accumulators on
/// AVX2, 6 × 32 with 12 ZMM on AVX-512 (which could hold 14 × 32, but no AVX-512 machine was at hand to tune on),
/// 6 × 8 on SSE/AdvSimd and 6 × 2 scalar for correctness. Each k step is 2 vector loads, 6 broadcasts and 12 FMAs:
/// 6 cycles on two FMA pipes, with the 8 loads well under Zen 3's 3 per cycle.
/// </summary>
internal static unsafe class SgemmMicroKernel<TOps, TVec>
    where TOps : ISimd<TVec>
    where TVec : unmanaged
{
    public const int MR = SgemmBlocking.MR;

    public static int NR => 2 * TOps.Width;

    /// <summary>The full tile, straight into C. <paramref name="beta"/> = 0 never reads C.</summary>
    /// <param name="kc">Depth.</param>
    /// <param name="a">The packed A sliver.</param>
    /// <param name="b">The packed B sliver.</param>
    /// <param name="c">The tile's top-left element.</param>
    /// <param name="ldc">Elements between C's rows.</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="beta">Scale of C's old value; 0: not read.</param>
    public static void Tile(int kc, float* a, float* b, float* c, nint ldc, float alpha, float beta) =>
        Tile<SgemmTileRows.Six, SgemmASliver.Packed>(kc, a, 0, b, c, ldc, alpha, beta);

    /// <summary>
    /// The first <see cref="ISgemmTileRows.Count"/> rows of the tile, full width, straight into C: the multiply-adds
    /// of the rows past them (the packing's zero padding) are not issued and those rows of C are not touched. A copy
    /// per row count, so the rows left at the bottom of C (m = 16 leaves 4, m = 128 leaves 2) cost their own share of
    /// the work, not a whole tile's and a round trip through a scratch tile.
    /// </summary>
    /// <remarks>
    /// A is read as <typeparamref name="TA"/> says: a packed sliver (<paramref name="lda"/> unused), or A's own rows,
    /// <paramref name="lda"/> apart (<see cref="SgemmASliver.Direct"/>).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile<TRows, TA>(int kc, float* a, nint lda, float* b, float* c, nint ldc, float alpha, float beta)
        where TRows : struct, ISgemmTileRows
        where TA : struct, ISgemmASliver
    {
        int w = TOps.Width;
        int rows = TRows.Count;
        if (Sse.IsSupported)
        {
            // C's rows are far apart and usually out of L1/L2: ask for them now, so that the update at the end
            // does not wait on six misses. The last element too, in case a row straddles two lines.
            for (int r = 0; r < rows; r++)
            {
                Sse.Prefetch0(c + (r * ldc));
                Sse.Prefetch0(c + (r * ldc) + (2 * w) - 1);
            }
        }

        // The row count is a constant of each copy: the JIT drops the accumulators and steps of the rows past it.
        TVec c00 = TOps.Zero, c01 = TOps.Zero, c10 = TOps.Zero, c11 = TOps.Zero, c20 = TOps.Zero, c21 = TOps.Zero;
        TVec c30 = TOps.Zero, c31 = TOps.Zero, c40 = TOps.Zero, c41 = TOps.Zero, c50 = TOps.Zero, c51 = TOps.Zero;
        nint bStep = 2 * w;
        nint r1 = TA.Row(1, lda), r2 = TA.Row(2, lda), r3 = TA.Row(3, lda), r4 = TA.Row(4, lda), r5 = TA.Row(5, lda);
        for (int p = 0; p < kc; p++)
        {
            TVec b0 = TOps.Load(b);
            TVec b1 = TOps.Load(b + w);
            TVec x = TOps.Broadcast(a[0]);
            c00 = TOps.MultiplyAdd(x, b0, c00);
            c01 = TOps.MultiplyAdd(x, b1, c01);
            if (TRows.Count > 1)
            {
                x = TOps.Broadcast(a[r1]);
                c10 = TOps.MultiplyAdd(x, b0, c10);
                c11 = TOps.MultiplyAdd(x, b1, c11);
            }

            if (TRows.Count > 2)
            {
                x = TOps.Broadcast(a[r2]);
                c20 = TOps.MultiplyAdd(x, b0, c20);
                c21 = TOps.MultiplyAdd(x, b1, c21);
            }

            if (TRows.Count > 3)
            {
                x = TOps.Broadcast(a[r3]);
                c30 = TOps.MultiplyAdd(x, b0, c30);
                c31 = TOps.MultiplyAdd(x, b1, c31);
            }

            if (TRows.Count > 4)
            {
                x = TOps.Broadcast(a[r4]);
                c40 = TOps.MultiplyAdd(x, b0, c40);
                c41 = TOps.MultiplyAdd(x, b1, c41);
            }

            if (TRows.Count > 5)
            {
                x = TOps.Broadcast(a[r5]);
                c50 = TOps.MultiplyAdd(x, b0, c50);
                c51 = TOps.MultiplyAdd(x, b1, c51);
            }

            a += TA.Step;
            b += bStep;
        }

        TVec va = TOps.Broadcast(alpha);
        if (beta == 0f)
        {
            StoreRow(c, w, va, c00, c01);
            if (TRows.Count > 1)
            {
                StoreRow(c + ldc, w, va, c10, c11);
            }

            if (TRows.Count > 2)
            {
                StoreRow(c + (2 * ldc), w, va, c20, c21);
            }

            if (TRows.Count > 3)
            {
                StoreRow(c + (3 * ldc), w, va, c30, c31);
            }

            if (TRows.Count > 4)
            {
                StoreRow(c + (4 * ldc), w, va, c40, c41);
            }

            if (TRows.Count > 5)
            {
                StoreRow(c + (5 * ldc), w, va, c50, c51);
            }
        }
        else
        {
            TVec vb = TOps.Broadcast(beta);
            UpdateRow(c, w, va, vb, c00, c01);
            if (TRows.Count > 1)
            {
                UpdateRow(c + ldc, w, va, vb, c10, c11);
            }

            if (TRows.Count > 2)
            {
                UpdateRow(c + (2 * ldc), w, va, vb, c20, c21);
            }

            if (TRows.Count > 3)
            {
                UpdateRow(c + (3 * ldc), w, va, vb, c30, c31);
            }

            if (TRows.Count > 4)
            {
                UpdateRow(c + (4 * ldc), w, va, vb, c40, c41);
            }

            if (TRows.Count > 5)
            {
                UpdateRow(c + (5 * ldc), w, va, vb, c50, c51);
            }
        }
    }

    /// <summary>
    /// A tile cut by the matrix edge (<paramref name="rows"/> ≤ 6, <paramref name="columns"/> ≤ 2W): its live rows
    /// (<see cref="Tile{TRows, TA}"/>), full width straight into C; narrower, into a scratch tile (the packing padded B
    /// with zeros), then only the live part into C.
    /// </summary>
    public static void EdgeTile<TA>(int kc, float* a, nint lda, float* b, float* c, nint ldc, float alpha, float beta, int rows, int columns)
        where TA : struct, ISgemmASliver
    {
        int nr = NR;
        if (columns == nr)
        {
            RowsTile<TA>(kc, a, lda, b, c, ldc, alpha, beta, rows);
            return;
        }

        float* tile = stackalloc float[MR * nr];
        RowsTile<TA>(kc, a, lda, b, tile, nr, 1f, 0f, rows);
        for (int i = 0; i < rows; i++)
        {
            float* source = tile + (i * nr);
            float* target = c + (i * ldc);
            for (int j = 0; j < columns; j++)
            {
                target[j] = beta == 0f ? alpha * source[j] : (alpha * source[j]) + (beta * target[j]);
            }
        }
    }

    private static void RowsTile<TA>(int kc, float* a, nint lda, float* b, float* c, nint ldc, float alpha, float beta, int rows)
        where TA : struct, ISgemmASliver
    {
        switch (rows)
        {
            case 1: Tile<SgemmTileRows.One, TA>(kc, a, lda, b, c, ldc, alpha, beta); return;
            case 2: Tile<SgemmTileRows.Two, TA>(kc, a, lda, b, c, ldc, alpha, beta); return;
            case 3: Tile<SgemmTileRows.Three, TA>(kc, a, lda, b, c, ldc, alpha, beta); return;
            case 4: Tile<SgemmTileRows.Four, TA>(kc, a, lda, b, c, ldc, alpha, beta); return;
            case 5: Tile<SgemmTileRows.Five, TA>(kc, a, lda, b, c, ldc, alpha, beta); return;
            default: Tile<SgemmTileRows.Six, TA>(kc, a, lda, b, c, ldc, alpha, beta); return;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* c, int w, TVec alpha, TVec v0, TVec v1)
    {
        TOps.Store(c, TOps.Multiply(alpha, v0));
        TOps.Store(c + w, TOps.Multiply(alpha, v1));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void UpdateRow(float* c, int w, TVec alpha, TVec beta, TVec v0, TVec v1)
    {
        TOps.Store(c, TOps.MultiplyAdd(alpha, v0, TOps.Multiply(beta, TOps.Load(c))));
        TOps.Store(c + w, TOps.MultiplyAdd(alpha, v1, TOps.Multiply(beta, TOps.Load(c + w))));
    }
}
