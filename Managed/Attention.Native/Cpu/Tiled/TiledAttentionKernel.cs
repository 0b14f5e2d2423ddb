using System.Runtime.CompilerServices;
using Attention.Native.Cpu.Simd;
using Attention.Native.Validation;
using static Attention.Native.Cpu.Simd.ExpPolynomial;

namespace Attention.Native.Cpu.Tiled;

/// <summary>
/// FlashAttention's forward pass on a CPU. A work item is one (batch, head, block of query rows); it walks the key
/// blocks its rows can see (whole blocks outside the causal/window/length range are skipped, per row tile), computes
/// a block of scores with <see cref="TileMicroKernels{TOps, TVec}.Scores"/>, applies soft cap, bias and masks,
/// updates the running max and sum in base 2, and accumulates <c>P·V</c> into a transposed output tile. Scratch is
/// O(block size) per worker; the Lq×Lk scores never exist as a whole.
/// </summary>
internal static unsafe class TiledAttentionKernel<TOps, TVec>
    where TOps : ISimd<TVec>
    where TVec : unmanaged
{
    /// <summary>
    /// The most row tiles one work item takes: every tile of an item reuses each K/V block the item fetched from L3,
    /// and that reuse is what the kernel is bound by. On Zen 3 (AVX2), 1 thread, D = 64 and 128: 4 tiles ran at
    /// 50–57 GFLOP/s, 8 at 65–68, 12 at 70–72, 16 at 65–66.
    /// </summary>
    private const int MaxRowTilesPerItem = 12;

    /// <summary>Budget for an item's transposed Q and O tiles, so that large head dims take fewer tiles and stay in L2.</summary>
    private const int ItemTileBytes = 192 * 1024;

    /// <summary>
    /// Keys per block: a multiple of the 6-key register tile, so full blocks leave no remainder. With 4 row tiles per
    /// item 48 keys beat 72 by 10–15 % (K and V of a block stayed nearer L1); with 12 tiles, 48, 60, 72 and 96 measured
    /// the same within noise (62–73 GFLOP/s, 1 thread, Zen 3), so the smaller block keeps scratch small.
    /// </summary>
    private const int KeyBlock = 48;

    /// <summary>
    /// Most floats of K and V rows staged for the groups of one phase (32 MiB): scratch bounded whatever the sequence
    /// lengths; a group longer than this leaves its items to stage their own blocks.
    /// </summary>
    private const long MaxStagedFloats = 8L << 20;

    /// <summary>Floats of K and V rows a phase stages where its groups are small (2 MiB, see <see cref="StagedGroups"/>).</summary>
    private const long PhaseFloats = 512L << 10;

    /// <summary>
    /// Fewest items per KV group for which staging the group's rows once (a pass of its own) beats each item staging
    /// them block by block while it computes (the copy then overlaps the item's work). BSHD over BHSD, H 8, D 64,
    /// 1 thread: L 512 (3 items) 0.97–0.99× staged per item, 0.94–0.95× per group; L 768 (4) 0.95–0.97× and
    /// 0.91–0.96×; L 1024 (6) 0.97–0.98× and 0.98–0.99×; L 2048 (11): see <see cref="StagedGroups"/>.
    /// </summary>
    private const int MinItemsPerStagedGroup = 6;

    /// <summary>Largest head dim whose Half/BFloat16 query and output rows are staged on the stack (8 rows: 8 KB).</summary>
    private const int MaxStagedDim = 256;

    private static int TileRows => 2 * TOps.Width;

    /// <summary>Blocks of query rows (one work item per block and query head).</summary>
    internal static int QueryBlocks(AttentionProblem p) => (p.QueryLength + (RowTilesPerItem(p) * TileRows) - 1) / (RowTilesPerItem(p) * TileRows);

    /// <summary>Row tiles per work item for this problem's head dims.</summary>
    private static int RowTilesPerItem(AttentionProblem p) =>
        Math.Clamp(ItemTileBytes / (TileRows * (p.HeadDim + p.ValueHeadDim) * sizeof(float)), 2, MaxRowTilesPerItem);

    /// <summary>Scratch floats one worker uses: a function of the head dims only, never of Lq or Lk.</summary>
    public static int ScratchFloatsPerWorker(AttentionProblem problem, bool convertsOperands) =>
        new ScratchLayout(problem, convertsOperands).Floats;

    public static void Run<T>(AttentionProblem problem, in Operands<T> operands, int threads)
        where T : unmanaged
    {
        int queryBlocks = QueryBlocks(problem);
        var layout = new ScratchLayout(problem, typeof(T) != typeof(float));
        int workers = Math.Clamp(threads, 1, queryBlocks * problem.Batch * problem.QueryHeads);
        using var scratch = new AlignedMemoryHandle((nuint)layout.Floats * (nuint)workers * sizeof(float), zero: false);
        float* scratchBase = (float*)scratch.Pointer;
        int groups = problem.Batch * problem.KeyValueHeads;
        int phaseGroups = typeof(T) == typeof(float) ? StagedGroups(problem, queryBlocks, workers) : 0;
        if (phaseGroups == 0)
        {
            RunItems(problem, operands, layout, scratchBase, workers, queryBlocks, 0, groups);
            return;
        }

        // K and V rows a head stride apart, staged once per (batch, KV head) and shared by all of its items, a phase
        // of groups at a time (StagedGroups).
        var rows = new HeadRows<TOps, TVec>(problem, phaseGroups);
        using var staged = new AlignedMemoryHandle((nuint)(rows.KeyFloats + rows.ValueFloats) * sizeof(float), zero: false);
        float* stagedKeys = (float*)staged.Pointer;
        float* stagedValues = stagedKeys + rows.KeyFloats;
        var ops = operands;
        for (int firstGroup = 0; firstGroup < groups; firstGroup += phaseGroups)
        {
            int count = Math.Min(phaseGroups, groups - firstGroup);
            int first = firstGroup;
            CpuParallel.For(count, workers, (g, _) => rows.Stage(problem, (float*)ops.Key, (float*)ops.Value, first + g,
                stagedKeys + (g * rows.KeyGroupFloats), stagedValues + (g * rows.ValueGroupFloats)));
            var (phaseProblem, phaseOperands) = rows.View(problem, ops, first, stagedKeys, stagedValues);
            RunItems(phaseProblem, phaseOperands, layout, scratchBase, workers, queryBlocks, first, count);
        }
    }

    /// <summary>
    /// The items of KV groups (batch, KV head) [<paramref name="firstGroup"/>, + <paramref name="groupCount"/>): one per
    /// (query head, block of query rows).
    /// </summary>
    private static void RunItems<T>(
        AttentionProblem problem, in Operands<T> operands, ScratchLayout layout, float* scratchBase, int workers,
        int queryBlocks, int firstGroup, int groupCount)
        where T : unmanaged
    {
        int itemRows = layout.ItemRows;
        int firstHead = firstGroup * problem.GroupSize;
        int heads = groupCount * problem.GroupSize;
        var ops = operands;
        int chunk = ChunkOf(problem, queryBlocks, queryBlocks * heads, workers);
        CpuParallel.For(queryBlocks * heads, workers, chunk, (item, worker) =>
        {
            // Heaviest blocks (the last query rows under a causal mask) first, so the tail of the schedule is short.
            int queryBlock = queryBlocks - 1 - (item / heads);
            int head = firstHead + (item % heads);
            RunItem(problem, ops, layout, scratchBase + ((long)worker * layout.Floats), head / problem.QueryHeads,
                head % problem.QueryHeads, queryBlock * itemRows);
        });
    }

    /// <summary>
    /// Items a worker takes at a time: with K and V rows a head stride apart (BSHD, a packed projection's view), all
    /// query heads of a sequence's query block together, where there are items enough for four such runs per worker;
    /// else, where each item is a whole head (one query block, so every item does the same work), an equal share of
    /// consecutive heads per worker; else one. Neighbouring heads' rows share pages and the lines the hardware
    /// prefetchers pull in beside a row: on one core they serve the next item, split across cores each core fetches the
    /// other's. The seed shape (B 32, H 8, L 64, D 64) in BSHD on 2 threads ran at 0.87–0.96× BHSD taking items one at
    /// a time and 1.00–1.05× taking a sequence's heads together (`compare --shapes seed --threads 2`, alternating runs,
    /// quiet Zen 3). H 8, L 128, D 64 (8 items) on 2 threads, BSHD over BHSD wall time, quiet, interleaved in one
    /// process: one at a time 0.93 / 0.91 (causal 0.90 / 0.92), four heads per worker 0.95 / 0.93 (causal 0.95 / 0.94).
    /// With several query blocks the items differ (a causal mask's last rows see the most keys), and an equal share per
    /// worker left one core idle: H 8, L 512 causal 0.95 → 0.77.
    /// </summary>
    internal static int ChunkOf(AttentionProblem p, int queryBlocks, int items, int workers)
    {
        bool strided = p.Key.Sequence != p.HeadDim || p.Value.Sequence != p.ValueHeadDim || p.Query.Sequence != p.HeadDim;
        if (!strided || workers <= 1)
        {
            return 1;
        }

        if (items >= 4 * workers * p.QueryHeads)
        {
            return p.QueryHeads;
        }

        return queryBlocks == 1 ? (items + workers - 1) / workers : 1;
    }

    /// <summary>
    /// KV groups whose strided float K and V rows are staged together (<see cref="HeadRows{TOps, TVec}"/>), or 0 where
    /// items read them as they are: K or V rows a head stride apart (BSHD, a packed projection's view), at least
    /// <see cref="MinItemsPerStagedGroup"/> items per group (query blocks times the group's query heads) and blocks
    /// enough to stage (as <see cref="RunItem"/>'s own staging), a group within <see cref="MaxStagedFloats"/>. Each item
    /// staging its own copy of the group's rows, block by block, copied them once per item: the 11 items of a head at
    /// L 2048 (H 8, D 64) ran BSHD at 0.91–0.97× BHSD's rate on one thread (thread CPU time, interleaved). Staged once
    /// per group, phases of 8 groups (8 MiB) ran 0.97–0.99×, of 4 groups 0.97–0.99×, of 2 groups 1.00–1.02× and of
    /// 1 group 0.99–1.02×: a small phase's rows are still in cache when its items read them (<see cref="PhaseFloats"/>).
    /// </summary>
    internal static int StagedGroups(AttentionProblem p, int queryBlocks, int workers)
    {
        bool strided = p.Key.Sequence != p.HeadDim || p.Value.Sequence != p.ValueHeadDim;
        int itemsPerGroup = queryBlocks * p.GroupSize;
        long groupFloats = (long)p.KeyLength * (p.HeadDim + p.ValueHeadDim);
        if (!strided || p.Paging is not null || p.Varlen is not null || itemsPerGroup < MinItemsPerStagedGroup
            || p.KeyLength <= 4 * KeyBlock
            || groupFloats > MaxStagedFloats)
        {
            return 0;
        }

        // Enough groups for two items per worker, so that the phases' ends leave no worker idle for long.
        int forWorkers = ((2 * workers) + itemsPerGroup - 1) / itemsPerGroup;
        long groups = Math.Max(Math.Max(PhaseFloats / groupFloats, 1), forWorkers);
        return (int)Math.Min(Math.Min(groups, MaxStagedFloats / groupFloats), p.Batch * p.KeyValueHeads);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunItem<T>(
        AttentionProblem p, in Operands<T> ops, in ScratchLayout layout, float* scratch, int batch, int head, int firstRow)
        where T : unmanaged
    {
        int tileRows = TileRows;
        int rowCount = Math.Min(layout.ItemRows, p.QueryLength - firstRow);
        int tiles = (rowCount + tileRows - 1) / tileRows;
        int dim = p.HeadDim;
        int valueDim = p.ValueHeadDim;
        int kvHead = head / p.GroupSize;
        float* qt = scratch + layout.QueryTiles;
        float* ot = scratch + layout.OutputTiles;
        float* rowMax = scratch + layout.RowMax;
        float* rowSum = scratch + layout.RowSum;
        float* scores = scratch + layout.Scores;
        float* alpha = scratch + layout.Alpha;
        int* rowLo = (int*)(scratch + layout.RowLo);
        int* rowHi = (int*)(scratch + layout.RowHi);

        for (int r = 0; r < rowCount; r++)
        {
            (rowLo[r], rowHi[r]) = p.KeyRange(batch, firstRow + r);
        }

        int keysLo = rowLo[0];
        int keysHi = rowHi[rowCount - 1];

        // Strided float K/V rows (BSHD, a packed projection's view) are staged block by block with the next block
        // prefetched (OperandRows.AsContiguousFloat) where the item walks more than four blocks; a shorter walk has
        // little to prefetch ahead and does not repay the copy. 1 thread, Zen 3, H 8, D 64, GFLOP per CPU-second,
        // BHSD / BSHD in place / BSHD staged: L 2048 72 / 65-67 / 70-71; B 32, L 64 (two blocks) 51 / 52-54 / 45-48.
        // BSHD rate over BHSD's in thread CPU time, interleaved, L 128 causal (three blocks): staged 0.92-0.93, in
        // place 0.96-0.97. The first block is prefetched before the queries load, so its rows arrive while they do.
        bool stage = keysHi - keysLo > 4 * KeyBlock;
        if (stage)
        {
            int firstKeys = Math.Min(KeyBlock, p.RunEnd(keysLo, keysHi) - keysLo);
            OperandRows<TOps, TVec>.FetchBlock(
                ops.Key, p.KeyOffset(batch, kvHead, keysLo), p.Key.Sequence, 0, firstKeys, dim);
            OperandRows<TOps, TVec>.FetchBlock(
                ops.Value, p.ValueOffset(batch, kvHead, keysLo), p.Value.Sequence, 0, firstKeys, valueDim);
        }

        LoadQueries(p, ops.Query, qt, batch, head, firstRow, rowCount, tiles);
        new Span<float>(ot, tiles * valueDim * tileRows).Clear();
        new Span<float>(rowMax, tiles * tileRows).Fill(float.NegativeInfinity);
        new Span<float>(rowSum, tiles * tileRows).Clear();
        var modifiers = new ScoreModifiers<TOps, TVec>(p, ops.Mask, ops.Bias, batch, head, rowLo, rowHi);
        for (int pass = 0; pass < (p.WantsProbabilities ? 2 : 1); pass++)
        {
            if (pass == 1)
            {
                FoldSinks(p, rowMax, rowSum, head, rowCount);
                PrepareProbabilities(p, ops.Probabilities, rowMax, rowSum, batch, head, firstRow, rowCount);
            }

            // Stepping by the block's own key count: blockStart + KeyBlock would wrap past int.MaxValue in the last
            // block of a key range that ends near it.
            for (int blockStart = keysLo, blockKeys; blockStart < keysHi; blockStart += blockKeys)
            {
                // A block's rows are one stride apart: for paged K/V it ends at its page's end, and the next block's
                // rows (which the staging prefetches) are on another page, found by the next block's lookup.
                blockKeys = Math.Min(KeyBlock, p.RunEnd(blockStart, keysHi) - blockStart);
                long keyStride = dim, valueStride = valueDim;
                float* value = null;
                int ahead = p.Paging is null ? Math.Min(KeyBlock, keysHi - blockStart - blockKeys) : 0;
                long keyOffset = p.KeyOffset(batch, kvHead, blockStart);
                float* key = stage
                    ? OperandRows<TOps, TVec>.AsContiguousFloat(ops.Key, keyOffset, p.Key.Sequence, 0, blockKeys, dim,
                        scratch + layout.KeyRows, ahead)
                    : OperandRows<TOps, TVec>.AsFloat(ops.Key, keyOffset, p.Key.Sequence, 0, blockKeys, dim,
                        scratch + layout.KeyRows, out keyStride);
                if (pass == 0)
                {
                    long valueOffset = p.ValueOffset(batch, kvHead, blockStart);
                    value = stage
                        ? OperandRows<TOps, TVec>.AsContiguousFloat(ops.Value, valueOffset, p.Value.Sequence, 0,
                            blockKeys, valueDim, scratch + layout.ValueRows, ahead)
                        : OperandRows<TOps, TVec>.AsFloat(ops.Value, valueOffset, p.Value.Sequence, 0, blockKeys,
                            valueDim, scratch + layout.ValueRows, out valueStride);
                }

                for (int t = 0; t < tiles; t++)
                {
                    int tileFirst = t * tileRows;
                    int tileCount = Math.Min(tileRows, rowCount - tileFirst);

                    // Keys this row tile can see within the block; none means the tile's state is unchanged.
                    int from = Math.Max(blockStart, rowLo[tileFirst]);
                    int to = Math.Min(blockStart + blockKeys, rowHi[tileFirst + tileCount - 1]);
                    if (to <= from)
                    {
                        continue;
                    }

                    int keys = to - from;
                    TileMicroKernels<TOps, TVec>.Scores(qt + (t * dim * tileRows), key + ((from - blockStart) * keyStride),
                        keyStride, keys, dim, scores);
                    modifiers.Apply(scores, keys, from, tileFirst, tileCount, firstRow);
                    float* max = rowMax + (t * tileRows);
                    float* sum = rowSum + (t * tileRows);
                    if (pass == 0)
                    {
                        OnlineSoftmax(scores, keys, max, sum, alpha);
                        TileMicroKernels<TOps, TVec>.Accumulate(ot + (t * valueDim * tileRows),
                            scores, value + ((from - blockStart) * valueStride), valueStride, keys, valueDim, alpha);
                    }
                    else
                    {
                        WriteProbabilities(p, ops.Probabilities, scores, keys, max, batch, head,
                            firstRow + tileFirst, tileCount, from);
                    }
                }
            }
        }

        if (!p.WantsProbabilities)
        {
            FoldSinks(p, rowMax, rowSum, head, rowCount);
        }

        StoreOutputs(p, ops, ot, rowMax, rowSum, batch, head, firstRow, rowCount);
    }

    /// <summary>Adds the head's sink to each row's sum once the rows have seen every key (<see cref="SinkSoftmax"/>).</summary>
    private static void FoldSinks(AttentionProblem p, float* rowMax, float* rowSum, int head, int rowCount)
    {
        if (p.Sinks is null)
        {
            return;
        }

        float sink = p.Sinks[head];
        for (int r = 0; r < rowCount; r++)
        {
            rowSum[r] = SinkSoftmax.Fold(rowMax[r], rowSum[r], sink);
        }
    }

    /// <summary>Copies the item's queries into transposed row tiles, pre-multiplied by scale·log2(e) for exp2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void LoadQueries<T>(
        AttentionProblem p, T* query, float* qt, int batch, int head, int firstRow, int rowCount, int tiles)
        where T : unmanaged
    {
        int tileRows = TileRows;
        int dim = p.HeadDim;
        float factor = p.Scale * Log2E;
        new Span<float>(qt, tiles * dim * tileRows).Clear();
        T* rows = query + (batch * p.Query.Batch) + (head * p.Query.Head) + (firstRow * p.Query.Sequence);
        int r = 0;
        if (TileTransposes.IsSupported(tileRows) && (typeof(T) == typeof(float) || dim <= MaxStagedDim))
        {
            // Half and BFloat16 rows are widened eight at a time (vectorised) into a staging block that the float
            // transposes then read: the element-by-element conversion cost as much as the attention at short Lk.
            float* staged = stackalloc float[typeof(T) == typeof(float) ? 1 : 8 * dim];
            // Groups of 8 rows never straddle a tile: tiles are a multiple of 8 rows.
            for (; r + 8 <= rowCount; r += 8)
            {
                float* column = qt + ((r / tileRows) * dim * tileRows) + (r % tileRows);
                T* first = rows + (r * p.Query.Sequence);
                float* source = (float*)first;
                nint stride = (nint)p.Query.Sequence;
                if (typeof(T) != typeof(float))
                {
                    for (int i = 0; i < 8; i++)
                    {
                        HalfPrecisionConversions<TOps, TVec>.Widen(first + (i * p.Query.Sequence), staged + (i * dim), dim);
                    }

                    source = staged;
                    stride = dim;
                }

                int done = TileTransposes.LoadRows(source, stride, dim, factor, column, tileRows);
                for (int i = 0; i < 8; i++)
                {
                    LoadQueryRow(source + (i * stride), column + i, done, dim, tileRows, factor);
                }
            }
        }

        for (; r < rowCount; r++)
        {
            LoadQueryRow(rows + (r * p.Query.Sequence), qt + ((r / tileRows) * dim * tileRows) + (r % tileRows), 0, dim,
                tileRows, factor);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LoadQueryRow<T>(T* row, float* column, int from, int dim, int tileRows, float factor)
        where T : unmanaged
    {
        for (int x = from; x < dim; x++)
        {
            column[x * tileRows] = ElementType.ToSingle(row[x]) * factor;
        }
    }

    /// <summary>One online-softmax step: new running max, rescale factor, exponentials in place, running sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OnlineSoftmax(float* scores, int keys, float* rowMax, float* rowSum, float* alpha)
    {
        int w = TOps.Width;
        int tileRows = TileRows;
        for (int half = 0; half < tileRows; half += w)
        {
            TVec oldMax = TOps.Load(rowMax + half);
            TVec blockMax = TOps.Broadcast(float.NegativeInfinity);
            float* s = scores + half;
            for (int j = 0; j < keys; j++, s += tileRows)
            {
                blockMax = TOps.Max(blockMax, TOps.Load(s));
            }

            TVec newMax = TOps.Max(oldMax, blockMax);
            TVec subtrahend = TOps.FiniteOrZero(newMax);
            TVec rescale = TOps.Exp2(TOps.Subtract(oldMax, subtrahend));
            TVec sum = TOps.Zero;
            s = scores + half;
            for (int j = 0; j < keys; j++, s += tileRows)
            {
                TVec e = TOps.Exp2(TOps.Subtract(TOps.Load(s), subtrahend));
                TOps.Store(s, e);
                sum = TOps.Add(sum, e);
            }

            TOps.Store(rowMax + half, newMax);
            TOps.Store(rowSum + half, TOps.MultiplyAdd(TOps.Load(rowSum + half), rescale, sum));
            TOps.Store(alpha + half, rescale);
        }
    }

    /// <summary>Zeroes the item's probability rows and turns the running max into the base-2 log-sum-exp.</summary>
    private static void PrepareProbabilities(
        AttentionProblem p, float* probabilities, float* rowMax, float* rowSum, int batch, int head, int firstRow, int rowCount)
    {
        long rowsStart = ((((long)batch * p.QueryHeads) + head) * p.QueryLength) + firstRow;
        new Span<float>(probabilities + (rowsStart * p.KeyLength), rowCount * p.KeyLength).Clear();
        for (int r = 0; r < rowCount; r++)
        {
            rowMax[r] = rowSum[r] > 0 ? rowMax[r] + MathF.Log2(rowSum[r]) : float.PositiveInfinity;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WriteProbabilities(
        AttentionProblem p, float* probabilities, float* scores, int keys, float* logSumExp2, int batch, int head,
        int firstQuery, int rowCount, int firstKey)
    {
        int w = TOps.Width;
        int tileRows = TileRows;
        for (int half = 0; half < tileRows; half += w)
        {
            TVec lse = TOps.Load(logSumExp2 + half);
            float* s = scores + half;
            for (int j = 0; j < keys; j++, s += tileRows)
            {
                TOps.Store(s, TOps.Exp2(TOps.Subtract(TOps.Load(s), lse)));
            }
        }

        float* rows = probabilities + (((((long)batch * p.QueryHeads) + head) * p.QueryLength + firstQuery) * p.KeyLength);
        for (int r = 0; r < rowCount; r++)
        {
            float* row = rows + ((long)r * p.KeyLength) + firstKey;
            for (int j = 0; j < keys; j++)
            {
                row[j] = scores[(j * tileRows) + r];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StoreOutputs<T>(
        AttentionProblem p, in Operands<T> ops, float* ot, float* rowMax, float* rowSum, int batch, int head,
        int firstRow, int rowCount)
        where T : unmanaged
    {
        int tileRows = TileRows;
        int valueDim = p.ValueHeadDim;
        T* rows = ops.Output + (batch * p.Output.Batch) + (head * p.Output.Head) + (firstRow * p.Output.Sequence);
        float* lse = ops.LogSumExp is null ? null
            : ops.LogSumExp + ((((long)batch * p.QueryHeads) + head) * p.QueryLength) + firstRow;
        bool moveByEight = TileTransposes.IsSupported(tileRows) && (typeof(T) == typeof(float) || valueDim <= MaxStagedDim);
        float* inverses = stackalloc float[8];
        // Half and BFloat16 rows go through a float staging block, narrowed eight rows at a time (vectorised); only
        // where rows move by eight, so at most 8 KB of stack.
        float* staged = stackalloc float[typeof(T) == typeof(float) || !moveByEight ? 1 : 8 * valueDim];
        for (int r = 0; r < rowCount; r++)
        {
            float sum = rowSum[r];
            float* column = ot + ((r / tileRows) * valueDim * tileRows) + (r % tileRows);
            T* row = rows + (r * p.Output.Sequence);
            if (moveByEight && r % 8 == 0 && r + 8 <= rowCount)
            {
                // Rows r..r+7 in one pass over the tile; each row then finishes its remaining columns below.
                for (int i = 0; i < 8; i++)
                {
                    inverses[i] = rowSum[r + i] > 0 ? 1f / rowSum[r + i] : 0f;
                }

                if (typeof(T) == typeof(float))
                {
                    int done = TileTransposes.StoreRows(column, tileRows, valueDim, inverses, (float*)row, (nint)p.Output.Sequence);
                    for (int i = 0; i < 8; i++)
                    {
                        StoreOutputRow(column + i, row + (i * p.Output.Sequence), done, valueDim, tileRows, inverses[i]);
                    }
                }
                else
                {
                    int done = TileTransposes.StoreRows(column, tileRows, valueDim, inverses, staged, valueDim);
                    for (int i = 0; i < 8; i++)
                    {
                        StoreOutputRow(column + i, staged + (i * valueDim), done, valueDim, tileRows, inverses[i]);
                        HalfPrecisionConversions<TOps, TVec>.Narrow(staged + (i * valueDim), row + (i * p.Output.Sequence), valueDim);
                    }
                }
            }
            else if (!moveByEight || r >= rowCount - (rowCount % 8))
            {
                StoreOutputRow(column, row, 0, valueDim, tileRows, sum > 0 ? 1f / sum : 0f);
            }

            if (lse is not null)
            {
                // In the probabilities pass rowMax already became the base-2 log-sum-exp.
                float log2 = p.WantsProbabilities ? rowMax[r] : rowMax[r] + MathF.Log2(sum);
                lse[r] = SinkSoftmax.LogSumExp(log2, sum, p.SinkOf(head));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreOutputRow<T>(float* column, T* row, int from, int valueDim, int tileRows, float inverse)
        where T : unmanaged
    {
        for (int c = from; c < valueDim; c++)
        {
            row[c] = ElementType.FromSingle<T>(column[c * tileRows] * inverse);
        }
    }

    /// <summary>Offsets (in floats) of one worker's scratch regions, each 64-byte aligned.</summary>
    private readonly struct ScratchLayout
    {
        public ScratchLayout(AttentionProblem p, bool convertsOperands)
        {
            int tileRows = TileRows;
            int offset = 0;
            int tiles = RowTilesPerItem(p);
            ItemRows = tiles * tileRows;
            QueryTiles = OperandRows.TakeScratch(ref offset, tiles * p.HeadDim * tileRows);
            OutputTiles = OperandRows.TakeScratch(ref offset, tiles * p.ValueHeadDim * tileRows);
            RowMax = OperandRows.TakeScratch(ref offset, ItemRows);
            RowSum = OperandRows.TakeScratch(ref offset, ItemRows);
            Scores = OperandRows.TakeScratch(ref offset, KeyBlock * tileRows);
            Alpha = OperandRows.TakeScratch(ref offset, tileRows);
            RowLo = OperandRows.TakeScratch(ref offset, ItemRows);
            RowHi = OperandRows.TakeScratch(ref offset, ItemRows);
            // K and V blocks are staged where they are converted or their rows lie apart (AsContiguousFloat).
            KeyRows = OperandRows.TakeScratch(ref offset, convertsOperands || p.Key.Sequence != p.HeadDim ? KeyBlock * p.HeadDim : 0);
            ValueRows = OperandRows.TakeScratch(ref offset,
                convertsOperands || p.Value.Sequence != p.ValueHeadDim ? KeyBlock * p.ValueHeadDim : 0);
            Floats = offset;
        }

        /// <summary>Query rows per work item.</summary>
        public int ItemRows { get; }

        public int QueryTiles { get; }

        public int OutputTiles { get; }

        public int RowMax { get; }

        public int RowSum { get; }

        public int Scores { get; }

        public int Alpha { get; }

        public int RowLo { get; }

        public int RowHi { get; }

        public int KeyRows { get; }

        public int ValueRows { get; }

        public int Floats { get; }
    }
}
