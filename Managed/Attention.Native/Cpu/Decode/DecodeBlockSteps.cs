using System.Runtime.CompilerServices;
using Attention.Native.Cpu.Simd;

namespace Attention.Native.Cpu.Decode;

/// <summary>
/// The decode kernel's (<see cref="DecodeAttentionKernel{TOps, TVec}"/>) loop over a block of keys for one (batch, KV
/// head): the weighted V rows of this block and the scores of the next block's K rows, two keys half a block apart per
/// step (<see cref="DecodeKeySteps{TOps, TVec}"/>), plus the first block's scores and the accumulators' rescaling.
/// Rows go four at a time (<see cref="DecodeKeySteps{TOps, TVec}.Rows"/>) then one at a time; the first row tile's
/// loads bring each K and V row in, the later tiles find it in L1.
/// </summary>
internal readonly unsafe struct DecodeBlockSteps<TOps, TVec>
    where TOps : ISimd<TVec>
    where TVec : unmanaged
{
    /// <summary>
    /// Keys per online-softmax step. The fused loop reads each operand as two streams that jump at every block, so
    /// longer blocks keep the hardware prefetchers on a stream longer: GQA 32/8, Lk 4096, D 128, one Zen 3 thread
    /// read 70–73 % of an interleaved streaming read with 64-key blocks, 77–81 % with 128, 81–84 % with 256 and 73 %
    /// with 512.
    /// </summary>
    public const int KeyBlock = 256;

    private readonly float* queries;
    private readonly int dim;
    private readonly int valueDim;
    private readonly int rows;
    private readonly float* accumulator;

    public DecodeBlockSteps(float* queries, int dim, int valueDim, int rows, float* accumulator)
    {
        this.queries = queries;
        this.dim = dim;
        this.valueDim = valueDim;
        this.rows = rows;
        this.accumulator = accumulator;
    }

    /// <summary>The head's query rows (Lq·group).</summary>
    public int QueryRows => rows;

    /// <summary>
    /// Every row's scores against a block's keys: <c>scores[r·KeyBlock + j]</c>, keys paired half a block apart
    /// (see <see cref="Step"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ScoreBlock<TKv>(TKv* key, long keyStride, int keys, float* scores)
        where TKv : unmanaged => ScoreRows(key, new StridedRows(keyStride), keys, scores);

    /// <summary><see cref="ScoreBlock{TKv}(TKv*, long, int, float*)"/> with rows found through <paramref name="keyRows"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ScoreRows<TKv, TRows>(TKv* key, TRows keyRows, int keys, float* scores)
        where TKv : unmanaged
        where TRows : struct, IBlockRows
    {
        int half = (keys + 1) / 2;
        for (int i = 0; i < half; i++)
        {
            ScoreStep(key, keyRows, keys, half, i, scores);
        }
    }

    /// <summary>Step <paramref name="i"/> of a block's scores: keys i and i + half (or i alone).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ScoreStep<TKv, TRows>(TKv* key, TRows keyRows, int keys, int half, int i, float* scores)
        where TKv : unmanaged
        where TRows : struct, IBlockRows
    {
        int tile = DecodeKeySteps<TOps, TVec>.Rows;
        TKv* k0 = key + keyRows.Offset(i);
        float* s = scores + i;
        int r = 0;
        if (i + half < keys)
        {
            TKv* k1 = key + keyRows.Offset(i + half);
            for (; r + tile <= rows; r += tile)
            {
                DecodeKeySteps<TOps, TVec>.ScoreFourPair(
                    queries + (r * dim), dim, k0, k1, s + (r * KeyBlock), KeyBlock, half);
            }

            for (; r < rows; r++)
            {
                DecodeKeySteps<TOps, TVec>.ScoreOnePair(queries + (r * dim), k0, k1, dim, s + (r * KeyBlock), half);
            }
        }
        else
        {
            for (; r + tile <= rows; r += tile)
            {
                DecodeKeySteps<TOps, TVec>.ScoreFour(queries + (r * dim), dim, k0, s + (r * KeyBlock), KeyBlock);
            }

            for (; r < rows; r++)
            {
                s[r * KeyBlock] = DecodeKeySteps<TOps, TVec>.ScoreOne(queries + (r * dim), k0, dim);
            }
        }
    }

    /// <summary>Every row's accumulator times its factor.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Rescale(float* factors)
    {
        for (int r = 0; r < rows; r++)
        {
            float* a = accumulator + (r * valueDim);
            if (factors[r] != 1f)
            {
                TVec scale = TOps.Broadcast(factors[r]);
                int c = 0;
                for (; c + TOps.Width <= valueDim; c += TOps.Width)
                {
                    TOps.Store(a + c, TOps.Multiply(TOps.Load(a + c), scale));
                }

                for (; c < valueDim; c++)
                {
                    a[c] *= factors[r];
                }
            }
        }
    }

    /// <summary>
    /// Prefetches the two rows that step <paramref name="step"/> + <see cref="IStreamAhead.Steps"/> will read: rows s and
    /// s + half of this block, or, past its end, the same step of the next block (assumed full; a prefetch past the
    /// operand's end is harmless).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FetchStep<TKv, TAhead, TRows>(TAhead ahead, TKv* block, TRows rows, int half, int step, int elements)
        where TKv : unmanaged
        where TAhead : struct, IStreamAhead
        where TRows : struct, IBlockRows
    {
        // Resolved per instantiation: a table's loads are not left behind in the loop that prefetches nothing.
        if (typeof(TAhead) == typeof(NoStreamAhead))
        {
            return;
        }

        int target = step + TAhead.Steps;
        int low = target < half ? target : KeyBlock + target - half;
        ahead.Fetch((byte*)(block + rows.Offset(low)), elements * sizeof(TKv));
        ahead.Fetch((byte*)(block + rows.Offset(low + half)), elements * sizeof(TKv));
    }

    /// <summary>Every step of a block for this head alone (<see cref="Step"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run<TKv, TAhead, TRows>(
        float* probabilities, float* nextScores, TKv* value, TRows valueRows, int keys, TKv* key, TRows keyRows,
        int nextKeys, TAhead ahead)
        where TKv : unmanaged
        where TAhead : struct, IStreamAhead
        where TRows : struct, IBlockRows
    {
        int half = (keys + 1) / 2;
        int nextHalf = (nextKeys + 1) / 2;
        for (int i = 0; i < half; i++)
        {
            Step(i, probabilities, nextScores, value, valueRows, keys, half, key, keyRows, nextKeys, nextHalf, ahead);
        }
    }

    /// <summary>
    /// Step <paramref name="i"/> of a block: its V rows i and i + half weighted by <paramref name="probabilities"/> into
    /// the accumulators, and, while the next block has keys, its K rows i and i + nextHalf scored into
    /// <paramref name="nextScores"/>. Pairing keys half a block apart makes every accumulator load and store serve two
    /// keys and every Q load two FMAs, while each operand is still read as two sequential streams: pairing adjacent
    /// rows (j, j + 1), a vector of each in turn, read 10–11 GB/s where rows half a block apart read 17 (a plain sum:
    /// 16–18).
    /// </summary>
    // Optimised on its own, not inlined: the block loop that calls it cannot inline this and all it inlines (the
    // JIT's budget ran out and left the step kernels at tier 0, four times slower on a short run).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Step<TKv, TAhead, TRows>(
        int i, float* probabilities, float* nextScores, TKv* value, TRows valueRows, int keys, int half, TKv* key,
        TRows keyRows, int nextKeys, int nextHalf, TAhead ahead)
        where TKv : unmanaged
        where TAhead : struct, IStreamAhead
        where TRows : struct, IBlockRows
    {
        WeighValues(i, probabilities, value, valueRows, keys, half, ahead);
        if (i < nextHalf)
        {
            ScoreNextKeys(i, nextScores, key, keyRows, nextKeys, nextHalf, ahead);
        }
    }

    /// <summary>
    /// The V half of <see cref="Step"/> alone, for an item of several heads: its loop weighs every head's values of a
    /// block, then scores every head's keys of the next (<see cref="KeyStep"/>), so that only the heads' accumulators,
    /// then only their queries, are live in L1 (8 heads of 4 rows of 128: 16 KiB each, where the fused step touched
    /// 32 KiB, all of L1, every step). On one Zen 3 thread a [B, L, H, D] cache's GQA 32/8 float decode went from
    /// 0.62–0.76× to 0.84–0.95× of BHSD's rate; MHA 32/32 (one row a head, a quarter of the arithmetic per byte) lost,
    /// paged position-major from 0.65–0.70× to 0.55–0.61×, so the kernel splits heads of four rows or more only. Each
    /// pass still reads its operand as two sequential streams of all the heads' rows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ValueStep<TKv, TAhead, TRows>(
        int i, float* probabilities, TKv* value, TRows valueRows, int keys, int half, TAhead ahead)
        where TKv : unmanaged
        where TAhead : struct, IStreamAhead
        where TRows : struct, IBlockRows =>
        WeighValues(i, probabilities, value, valueRows, keys, half, ahead);

    /// <summary>The K half of <see cref="Step"/> alone: the next block's keys i and i + half scored (see <see cref="ValueStep"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void KeyStep<TKv, TAhead, TRows>(
        int i, float* nextScores, TKv* key, TRows keyRows, int nextKeys, int nextHalf, TAhead ahead)
        where TKv : unmanaged
        where TAhead : struct, IStreamAhead
        where TRows : struct, IBlockRows =>
        ScoreNextKeys(i, nextScores, key, keyRows, nextKeys, nextHalf, ahead);

    /// <summary>V rows i and i + half of a block weighted by <paramref name="probabilities"/> into the accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void WeighValues<TKv, TAhead, TRows>(
        int i, float* probabilities, TKv* value, TRows valueRows, int keys, int half, TAhead ahead)
        where TKv : unmanaged
        where TAhead : struct, IStreamAhead
        where TRows : struct, IBlockRows
    {
        int tile = DecodeKeySteps<TOps, TVec>.Rows;
        TKv* v0 = value + valueRows.Offset(i);
        float* p = probabilities + i;
        FetchStep(ahead, value, valueRows, half, i, valueDim);
        int r = 0;
        if (i + half < keys)
        {
            TKv* v1 = value + valueRows.Offset(i + half);
            for (; r + tile <= rows; r += tile)
            {
                DecodeKeySteps<TOps, TVec>.AccumulateFourPair(
                    accumulator + (r * valueDim), valueDim, v0, v1, p + (r * KeyBlock), KeyBlock, half);
            }

            for (; r < rows; r++)
            {
                DecodeKeySteps<TOps, TVec>.AccumulateOnePair(
                    accumulator + (r * valueDim), valueDim, v0, v1, p[r * KeyBlock], p[(r * KeyBlock) + half]);
            }
        }
        else
        {
            for (; r + tile <= rows; r += tile)
            {
                DecodeKeySteps<TOps, TVec>.AccumulateFour(
                    accumulator + (r * valueDim), valueDim, v0, p + (r * KeyBlock), KeyBlock);
            }

            for (; r < rows; r++)
            {
                DecodeKeySteps<TOps, TVec>.AccumulateOne(accumulator + (r * valueDim), valueDim, v0, p[r * KeyBlock]);
            }
        }
    }

    /// <summary>K rows i and i + half of the next block scored into <paramref name="nextScores"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ScoreNextKeys<TKv, TAhead, TRows>(
        int i, float* nextScores, TKv* key, TRows keyRows, int nextKeys, int nextHalf, TAhead ahead)
        where TKv : unmanaged
        where TAhead : struct, IStreamAhead
        where TRows : struct, IBlockRows
    {
        FetchStep(ahead, key, keyRows, nextHalf, i, dim);
        ScoreStep(key, keyRows, nextKeys, nextHalf, i, nextScores);
    }
}
