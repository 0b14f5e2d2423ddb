using System.Runtime.CompilerServices;
using Attention.Native.Cpu.Simd;
using Attention.Native.Cpu.Tiled;
using Attention.Native.Validation;
using static Attention.Native.Cpu.Simd.ExpPolynomial;

namespace Attention.Native.Cpu.Backward;

/// <summary>
/// FlashAttention-2's backward pass on a CPU. First <c>D = rowsum(dO∘O)</c> per query row. Then a work item is one
/// key block of one (batch, kv head): it holds the block's K and V and its <c>dK</c>, <c>dV</c> accumulators, and
/// for every query head of the group and every row tile that sees the block it recomputes the scores from Q, K and the
/// saved log-sum-exp, <c>P = exp(S − LSE)</c>, <c>dV += Pᵀ·dO</c>, <c>dP = dO·Vᵀ</c>, <c>dS = P∘(dP − D)</c>
/// (through the soft cap's derivative and the scale), <c>dK += dSᵀ·Q</c>, and adds <c>dS·K</c> to the row tile's
/// <c>dQ</c> (<see cref="QueryGradAccumulator{TOps, TVec}"/>). Items own disjoint key rows, so <c>dK</c> and
/// <c>dV</c> need no synchronisation; where the bias gradient broadcasts over batch or heads, an item spans those
/// too, so that it alone writes its columns of each bias-gradient plane. Scratch is O(block) per worker; the
/// <c>Lq × Lk</c> matrices never exist.
/// </summary>
/// <remarks>
/// <c>dQ</c> is accumulated across items under a lock per query tile rather than by a second pass over the key blocks
/// per query tile: the second pass recomputes <c>Q·Kᵀ</c> and <c>dO·Vᵀ</c> (7 block products in all against 5),
/// while the locked adds cost <c>D·2W</c> adds per 10·<c>2W·keys·D</c> FLOPs and rarely wait (items start their
/// walk over the query tiles at different tiles).
/// </remarks>
internal static unsafe class AttentionBackwardKernel<TOps, TVec>
    where TOps : ISimd<TVec>
    where TVec : unmanaged
{
    /// <summary>
    /// Keys per item where D + Dv ≤ 256: each query tile an item loads (Q and dO, row-major and transposed) serves
    /// that many keys, and K, V, dK and dV of the block (4·128·D floats, 256 KB at D = 128) stay in L2 while the item
    /// walks every query tile. Process CPU seconds (5 backward runs plus setup, causal and not, 1 thread, Zen 3, three
    /// interleaved rounds) for blocks of 48 / 64 / 96 / 128 keys: (1, 8, 1024, 64) 1.30 / 1.22 / 1.20 / 1.16,
    /// (1, 8, 512, 128) 0.90 / 0.89 / 0.89 / 0.85.
    /// </summary>
    private const int LargeKeyBlock = 128;

    /// <summary>Keys per item for larger head dims, whose 128-key blocks would no longer fit L2.</summary>
    private const int SmallKeyBlock = 64;

    private static int TileRows => 2 * TOps.Width;

    /// <summary>Keys per work item for this problem's head dims.</summary>
    private static int KeyBlock(AttentionProblem p) => p.HeadDim + p.ValueHeadDim <= 256 ? LargeKeyBlock : SmallKeyBlock;

    /// <summary>Scratch floats one worker uses: a function of the head dims only, never of Lq or Lk.</summary>
    public static int ScratchFloatsPerWorker(AttentionProblem problem) => new ScratchLayout(problem).Floats;

    public static void Run<T>(AttentionBackwardProblem backward, in BackwardOperands<T> operands, int threads)
        where T : unmanaged
    {
        var p = backward.Forward;
        var ops = operands;
        long rows = (long)p.Batch * p.QueryHeads * p.QueryLength;
        using var rowDotMemory = new AlignedMemoryHandle((nuint)rows * sizeof(float), zero: false);
        float* rowDots = (float*)rowDotMemory.Pointer;
        CpuParallel.For(p.Batch * p.QueryHeads, threads, (item, _) => RowDots(p, ops, rowDots, item / p.QueryHeads, item % p.QueryHeads));
        if (ops.SinksGrad is not null)
        {
            SinksGradient.Write(p, ops.LogSumExp, rowDots, ops.SinksGrad);
        }

        using var tileMemory = new AlignedMemoryHandle(
            (nuint)QueryGradAccumulator<TOps, TVec>.Floats(p) * sizeof(float), zero: true);
        using var lockMemory = new AlignedMemoryHandle((nuint)QueryGradAccumulator<TOps, TVec>.Locks(p) * sizeof(int), zero: true);
        var queryGrad = new QueryGradAccumulator<TOps, TVec>(p, (float*)tileMemory.Pointer, (int*)lockMemory.Pointer);

        // A bias gradient broadcast over batch (heads) is summed over it: one item then spans every batch entry
        // (kv head), the only writer of its columns.
        bool spanBatches = backward.WantsBiasGrad && p.Bias!.Batch == 1;
        bool spanHeads = backward.WantsBiasGrad && p.Bias!.Heads == 1;
        int batchItems = spanBatches ? 1 : p.Batch;
        int headItems = spanHeads ? 1 : p.KeyValueHeads;
        int keyBlocks = (p.KeyLength + KeyBlock(p) - 1) / KeyBlock(p);
        int items = checked(batchItems * headItems * keyBlocks);
        var layout = new ScratchLayout(p);
        int workers = Math.Clamp(threads, 1, items);
        using var scratch = new AlignedMemoryHandle((nuint)layout.Floats * (nuint)workers * sizeof(float), zero: false);
        float* scratchBase = (float*)scratch.Pointer;
        CpuParallel.For(items, workers, (item, worker) =>
        {
            // Key block 0 first: under a top-left causal mask it is the one every query sees.
            int block = item / (batchItems * headItems);
            int rest = item % (batchItems * headItems);
            int batch = rest / headItems;
            int head = rest % headItems;
            RunItem(backward, ops, layout, scratchBase + ((long)worker * layout.Floats), rowDots, queryGrad,
                spanBatches ? 0 : batch, spanBatches ? p.Batch : batch + 1,
                spanHeads ? 0 : head, spanHeads ? p.KeyValueHeads : head + 1, block);
        });

        CpuParallel.For(p.Batch * p.QueryHeads, threads, (item, _) =>
            StoreQueryGrad(p, ops, queryGrad, item / p.QueryHeads, item % p.QueryHeads));
    }

    /// <summary><c>D = rowsum(dO∘O)</c> for the rows of one (batch, head).</summary>
    private static void RowDots<T>(AttentionProblem p, in BackwardOperands<T> ops, float* rowDots, int batch, int head)
        where T : unmanaged
    {
        long offset = (batch * p.Output.Batch) + (head * p.Output.Head);
        float* target = rowDots + ((((long)batch * p.QueryHeads) + head) * p.QueryLength);
        for (int i = 0; i < p.QueryLength; i++)
        {
            T* o = ops.Output + offset + (i * p.Output.Sequence);
            T* g = ops.OutputGrad + offset + (i * p.Output.Sequence);
            float sum = 0;
            for (int c = 0; c < p.ValueHeadDim; c++)
            {
                sum += ElementType.ToSingle(o[c]) * ElementType.ToSingle(g[c]);
            }

            target[i] = sum;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunItem<T>(
        AttentionBackwardProblem backward, in BackwardOperands<T> ops, in ScratchLayout layout, float* scratch, float* rowDots,
        in QueryGradAccumulator<TOps, TVec> queryGrad, int batchFirst, int batchEnd, int kvFirst, int kvEnd, int block)
        where T : unmanaged
    {
        var p = backward.Forward;
        int tileRows = TileRows;
        int dim = p.HeadDim;
        int valueDim = p.ValueHeadDim;
        int paddedDim = layout.PaddedDim;
        int paddedValueDim = layout.PaddedValueDim;
        int blockStart = block * KeyBlock(p);
        int blockKeys = Math.Min(KeyBlock(p), p.KeyLength - blockStart);
        int queryTiles = QueryGradAccumulator<TOps, TVec>.QueryTiles(p);
        float* keyGrad = scratch + layout.KeyGrad;
        float* valueGrad = scratch + layout.ValueGrad;
        float* queryRows = scratch + layout.QueryRows;
        float* queryTile = scratch + layout.QueryTile;
        float* gradRows = scratch + layout.GradRows;
        float* gradTile = scratch + layout.GradTile;
        float* scores = scratch + layout.Scores;
        float* raw = scratch + layout.Raw;
        float* scoreGrad = scratch + layout.ScoreGrad;
        float* queryGradTile = scratch + layout.QueryGradTile;
        float* logSumExp2 = scratch + layout.LogSumExp2;
        float* rowDot = scratch + layout.RowDot;
        float* ones = scratch + layout.Ones;
        int* rowLo = (int*)(scratch + layout.RowLo);
        int* rowHi = (int*)(scratch + layout.RowHi);
        new Span<float>(ones, tileRows).Fill(1f);
        if (ops.BiasGrad is not null)
        {
            ClearBiasGradColumns(p, ops.BiasGrad, batchFirst, batchEnd, kvFirst * p.GroupSize, kvEnd * p.GroupSize, blockStart, blockKeys);
        }

        for (int batch = batchFirst; batch < batchEnd; batch++)
        {
            for (int kvHead = kvFirst; kvHead < kvEnd; kvHead++)
            {
                float* key = OperandRows<TOps, TVec>.AsContiguousFloat(ops.Key, (batch * p.Key.Batch) + (kvHead * p.Key.Head),
                    p.Key.Sequence, blockStart, blockKeys, dim, scratch + layout.KeyRows, 0);
                float* value = OperandRows<TOps, TVec>.AsContiguousFloat(ops.Value,
                    (batch * p.Value.Batch) + (kvHead * p.Value.Head), p.Value.Sequence, blockStart, blockKeys, valueDim,
                    scratch + layout.ValueRows, 0);
                new Span<float>(keyGrad, blockKeys * paddedDim).Clear();
                new Span<float>(valueGrad, blockKeys * paddedValueDim).Clear();
                for (int head = kvHead * p.GroupSize; head < (kvHead + 1) * p.GroupSize; head++)
                {
                    var modifiers = new ScoreModifiers<TOps, TVec>(p, ops.Mask, ops.Bias, batch, head, rowLo, rowHi);
                    float* biasGrad = ops.BiasGrad is null ? null
                        : ops.BiasGrad + (batch * p.MaskBatchStride(p.Bias!.Heads, p.Bias.Batch)) + (head * p.MaskHeadStride(p.Bias.Heads));
                    for (int step = 0; step < queryTiles; step++)
                    {
                        // Items start at different tiles, so that two rarely wait on the same tile's lock.
                        int tile = (step + block) % queryTiles;
                        int firstRow = tile * tileRows;
                        int rowCount = Math.Min(tileRows, p.QueryLength - firstRow);
                        for (int r = 0; r < rowCount; r++)
                        {
                            (rowLo[r], rowHi[r]) = p.KeyRange(batch, firstRow + r);
                        }

                        int from = Math.Max(blockStart, rowLo[0]);
                        int to = Math.Min(blockStart + blockKeys, rowHi[rowCount - 1]);
                        if (to <= from)
                        {
                            continue;
                        }

                        long queryOffset = (batch * p.Query.Batch) + (head * p.Query.Head) + (firstRow * p.Query.Sequence);
                        long outputOffset = (batch * p.Output.Batch) + (head * p.Output.Head) + (firstRow * p.Output.Sequence);
                        LoadTile(ops.Query + queryOffset, p.Query.Sequence, rowCount, dim, paddedDim, p.Scale * Log2E, queryRows, queryTile);
                        LoadTile(ops.OutputGrad + outputOffset, p.Output.Sequence, rowCount, valueDim, paddedValueDim, 1f, gradRows, gradTile);
                        long rowIndex = ((((long)batch * p.QueryHeads) + head) * p.QueryLength) + firstRow;
                        for (int r = 0; r < tileRows; r++)
                        {
                            float lse = r < rowCount ? ops.LogSumExp[rowIndex + r] : float.NegativeInfinity;
                            // A row that sees no key has LSE −∞: +∞ here makes its every P exactly 0.
                            logSumExp2[r] = float.IsNegativeInfinity(lse) ? float.PositiveInfinity : lse * Log2E;
                            rowDot[r] = r < rowCount ? rowDots[rowIndex + r] : 0f;
                        }

                        int keys = to - from;
                        int keyInBlock = from - blockStart;
                        TileMicroKernels<TOps, TVec>.Scores(queryTile, key + (keyInBlock * dim), dim, keys, dim, scores);
                        if (p.Softcap > 0)
                        {
                            new ReadOnlySpan<float>(scores, keys * tileRows).CopyTo(new Span<float>(raw, keys * tileRows));
                        }

                        modifiers.Apply(scores, keys, from, 0, rowCount, firstRow);
                        TileMicroKernels<TOps, TVec>.Scores(gradTile, value + (keyInBlock * valueDim), valueDim, keys, valueDim, scoreGrad);
                        ScoreGradients(scores, scoreGrad, keys, logSumExp2, rowDot);
                        if (biasGrad is not null)
                        {
                            AddBiasGrad(biasGrad + ((long)firstRow * p.KeyLength) + from, p.KeyLength, scoreGrad, keys, rowCount);
                        }

                        ThroughCapAndScale(p, scoreGrad, raw, keys);
                        BackwardMicroKernels<TOps, TVec>.AccumulateTransposed(valueGrad + (keyInBlock * paddedValueDim),
                            paddedValueDim, scores, keys, gradRows, paddedValueDim, rowCount, paddedValueDim);
                        BackwardMicroKernels<TOps, TVec>.AccumulateTransposed(keyGrad + (keyInBlock * paddedDim),
                            paddedDim, scoreGrad, keys, queryRows, paddedDim, rowCount, paddedDim);
                        new Span<float>(queryGradTile, dim * tileRows).Clear();
                        TileMicroKernels<TOps, TVec>.Accumulate(queryGradTile, scoreGrad, key + (keyInBlock * dim), dim, keys, dim, ones);
                        queryGrad.Add(p, batch, head, tile, queryGradTile);
                    }
                }

                StoreRows(ops.KeyGrad + (batch * p.Key.Batch) + (kvHead * p.Key.Head) + (blockStart * p.Key.Sequence),
                    p.Key.Sequence, keyGrad, paddedDim, blockKeys, dim);
                StoreRows(ops.ValueGrad + (batch * p.Value.Batch) + (kvHead * p.Value.Head) + (blockStart * p.Value.Sequence),
                    p.Value.Sequence, valueGrad, paddedValueDim, blockKeys, valueDim);
            }
        }
    }

    /// <summary>
    /// A row tile of Q or dO twice: row-major as floats, <paramref name="paddedDim"/> apart and zero past
    /// <paramref name="dim"/> and past <paramref name="rowCount"/> (the <c>dK</c>, <c>dV</c> loops' operand), and
    /// transposed <c>[dim][2·W]</c> times <paramref name="factor"/> (the score loops' operand).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void LoadTile<T>(
        T* source, long stride, int rowCount, int dim, int paddedDim, float factor, float* rows, float* transposed)
        where T : unmanaged
    {
        int tileRows = TileRows;
        for (int r = 0; r < rowCount; r++)
        {
            HalfPrecisionConversions<TOps, TVec>.Widen(source + (r * stride), rows + (r * paddedDim), dim);
            new Span<float>(rows + (r * paddedDim) + dim, paddedDim - dim).Clear();
        }

        new Span<float>(rows + (rowCount * paddedDim), (tileRows - rowCount) * paddedDim).Clear();
        int r8 = 0;
        if (TileTransposes.IsSupported(tileRows))
        {
            for (; r8 < tileRows; r8 += 8)
            {
                int done = TileTransposes.LoadRows(rows + (r8 * paddedDim), paddedDim, dim, factor, transposed + r8, tileRows);
                for (int i = 0; i < 8; i++)
                {
                    TransposeRow(rows + ((r8 + i) * paddedDim), transposed + r8 + i, done, dim, tileRows, factor);
                }
            }
        }

        for (; r8 < tileRows; r8++)
        {
            TransposeRow(rows + (r8 * paddedDim), transposed + r8, 0, dim, tileRows, factor);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TransposeRow(float* row, float* column, int from, int dim, int tileRows, float factor)
    {
        for (int x = from; x < dim; x++)
        {
            column[x * tileRows] = row[x] * factor;
        }
    }

    /// <summary>
    /// <c>P = 2^(S₂ − LSE₂)</c> in place of the modified base-2 scores, and <c>dS = P∘(dP − D)</c> in place of
    /// <c>dP</c>: the gradient of the biased score (and of the bias).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScoreGradients(float* scores, float* scoreGrad, int keys, float* logSumExp2, float* rowDot)
    {
        int w = TOps.Width;
        int tileRows = TileRows;
        for (int half = 0; half < tileRows; half += w)
        {
            TVec lse = TOps.Load(logSumExp2 + half);
            TVec d = TOps.Load(rowDot + half);
            float* s = scores + half;
            float* g = scoreGrad + half;
            for (int j = 0; j < keys; j++, s += tileRows, g += tileRows)
            {
                TVec probability = TOps.Exp2(TOps.Subtract(TOps.Load(s), lse));
                TOps.Store(s, probability);
                TOps.Store(g, TOps.Multiply(probability, TOps.Subtract(TOps.Load(g), d)));
            }
        }
    }

    /// <summary>
    /// <c>dS</c> of the biased score to <c>dS</c> of <c>Q·Kᵀ</c>: times the soft cap's derivative <c>1 − tanh²(s/cap)</c>
    /// (from the raw base-2 scores in <paramref name="raw"/>) and the scale.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ThroughCapAndScale(AttentionProblem p, float* scoreGrad, float* raw, int keys)
    {
        int count = keys * TileRows;
        TVec scale = TOps.Broadcast(p.Scale);
        if (p.Softcap > 0)
        {
            TVec inverseCap = TOps.Broadcast(1f / (p.Softcap * Log2E));
            TVec one = TOps.Broadcast(1f);
            for (int i = 0; i < count; i += TOps.Width)
            {
                TVec t = TOps.Tanh(TOps.Multiply(TOps.Load(raw + i), inverseCap));
                TVec derivative = TOps.Subtract(one, TOps.Multiply(t, t));
                TOps.Store(scoreGrad + i, TOps.Multiply(TOps.Multiply(TOps.Load(scoreGrad + i), derivative), scale));
            }
        }
        else
        {
            for (int i = 0; i < count; i += TOps.Width)
            {
                TOps.Store(scoreGrad + i, TOps.Multiply(TOps.Load(scoreGrad + i), scale));
            }
        }
    }

    /// <summary>Adds the tile's <c>dS</c> to the bias gradient's rows (<paramref name="rows"/> at the first key).</summary>
    private static void AddBiasGrad(float* rows, long rowStride, float* scoreGrad, int keys, int rowCount)
    {
        int tileRows = TileRows;
        for (int r = 0; r < rowCount; r++)
        {
            float* row = rows + (r * rowStride);
            for (int j = 0; j < keys; j++)
            {
                row[j] += scoreGrad[(j * tileRows) + r];
            }
        }
    }

    /// <summary>Zeroes the item's key columns of every bias-gradient plane it writes (a broadcast plane once per item).</summary>
    private static void ClearBiasGradColumns(
        AttentionProblem p, float* biasGrad, int batchFirst, int batchEnd, int headFirst, int headEnd, int blockStart, int blockKeys)
    {
        for (int batch = batchFirst; batch < batchEnd; batch++)
        {
            for (int head = headFirst; head < headEnd; head++)
            {
                float* plane = biasGrad + (batch * p.MaskBatchStride(p.Bias!.Heads, p.Bias.Batch)) + (head * p.MaskHeadStride(p.Bias.Heads));
                for (int i = 0; i < p.QueryLength; i++)
                {
                    new Span<float>(plane + ((long)i * p.KeyLength) + blockStart, blockKeys).Clear();
                }
            }
        }
    }

    /// <summary>Writes accumulated float rows to a gradient with its operand's row stride, rounding to <typeparamref name="T"/>.</summary>
    private static void StoreRows<T>(T* target, long stride, float* rows, int rowStride, int count, int dim)
        where T : unmanaged
    {
        for (int j = 0; j < count; j++)
        {
            HalfPrecisionConversions<TOps, TVec>.Narrow(rows + (j * rowStride), target + (j * stride), dim);
        }
    }

    /// <summary>Writes one (batch, head)'s accumulated <c>dQ</c> tiles to queryGrad with the query's strides.</summary>
    private static void StoreQueryGrad<T>(
        AttentionProblem p, in BackwardOperands<T> ops, in QueryGradAccumulator<TOps, TVec> queryGrad, int batch, int head)
        where T : unmanaged
    {
        int tileRows = TileRows;
        T* rows = ops.QueryGrad + (batch * p.Query.Batch) + (head * p.Query.Head);
        for (int tile = 0; tile < QueryGradAccumulator<TOps, TVec>.QueryTiles(p); tile++)
        {
            float* accumulated = queryGrad.Tile(p, batch, head, tile);
            int firstRow = tile * tileRows;
            int rowCount = Math.Min(tileRows, p.QueryLength - firstRow);
            for (int r = 0; r < rowCount; r++)
            {
                T* row = rows + ((firstRow + r) * p.Query.Sequence);
                for (int x = 0; x < p.HeadDim; x++)
                {
                    row[x] = ElementType.FromSingle<T>(accumulated[(x * tileRows) + r]);
                }
            }
        }
    }

    /// <summary>Offsets (in floats) of one worker's scratch regions, each 64-byte aligned.</summary>
    private readonly struct ScratchLayout
    {
        public ScratchLayout(AttentionProblem p)
        {
            int tileRows = TileRows;
            int w = TOps.Width;
            int offset = 0;
            int keyBlock = KeyBlock(p);
            PaddedDim = (p.HeadDim + w - 1) / w * w;
            PaddedValueDim = (p.ValueHeadDim + w - 1) / w * w;
            KeyRows = OperandRows.TakeScratch(ref offset, keyBlock * p.HeadDim);
            ValueRows = OperandRows.TakeScratch(ref offset, keyBlock * p.ValueHeadDim);
            KeyGrad = OperandRows.TakeScratch(ref offset, keyBlock * PaddedDim);
            ValueGrad = OperandRows.TakeScratch(ref offset, keyBlock * PaddedValueDim);
            QueryRows = OperandRows.TakeScratch(ref offset, tileRows * PaddedDim);
            QueryTile = OperandRows.TakeScratch(ref offset, tileRows * p.HeadDim);
            GradRows = OperandRows.TakeScratch(ref offset, tileRows * PaddedValueDim);
            GradTile = OperandRows.TakeScratch(ref offset, tileRows * p.ValueHeadDim);
            Scores = OperandRows.TakeScratch(ref offset, keyBlock * tileRows);
            Raw = OperandRows.TakeScratch(ref offset, p.Softcap > 0 ? keyBlock * tileRows : 0);
            ScoreGrad = OperandRows.TakeScratch(ref offset, keyBlock * tileRows);
            QueryGradTile = OperandRows.TakeScratch(ref offset, tileRows * p.HeadDim);
            LogSumExp2 = OperandRows.TakeScratch(ref offset, tileRows);
            RowDot = OperandRows.TakeScratch(ref offset, tileRows);
            Ones = OperandRows.TakeScratch(ref offset, tileRows);
            RowLo = OperandRows.TakeScratch(ref offset, tileRows);
            RowHi = OperandRows.TakeScratch(ref offset, tileRows);
            Floats = offset;
        }

        /// <summary>D rounded up to the vector width: the row-major tiles' and the dK accumulator's row length.</summary>
        public int PaddedDim { get; }

        /// <summary>Dv rounded up to the vector width.</summary>
        public int PaddedValueDim { get; }

        public int KeyRows { get; }

        public int ValueRows { get; }

        public int KeyGrad { get; }

        public int ValueGrad { get; }

        public int QueryRows { get; }

        public int QueryTile { get; }

        public int GradRows { get; }

        public int GradTile { get; }

        public int Scores { get; }

        public int Raw { get; }

        public int ScoreGrad { get; }

        public int QueryGradTile { get; }

        public int LogSumExp2 { get; }

        public int RowDot { get; }

        public int Ones { get; }

        public int RowLo { get; }

        public int RowHi { get; }

        public int Floats { get; }
    }
}
