using System.Runtime.CompilerServices;
using Attention.Native.Cpu.Simd;
using Attention.Native.Validation;
using static Attention.Native.Cpu.Simd.ExpPolynomial;

namespace Attention.Native.Cpu.Decode;

/// <summary>
/// Attention for a few queries against many keys (token-by-token decoding with a KV cache). It is memory-bound, so
/// unlike <see cref="Tiled.TiledAttentionKernel{TOps, TVec}"/> it vectorises along the head dimension (no padding of
/// query rows to a tile) and reads each key and value row once for every query head that shares it (GQA rows are
/// packed together). When there are fewer (batch, KV head) pairs than workers the keys are split into chunks whose
/// partial softmax states are merged by their maxima and sums (flash-decoding). K and V rows are float, Half,
/// BFloat16 or int8 with a scale per (batch, KV head, key) (<see cref="KeyValueRows{TKv}"/>); each vector is converted in
/// registers as the block loop loads it, so a 16-bit cache moves half the bytes of a float one and an int8 cache a
/// quarter (plus its scales), and nothing is staged. An int8 key's scale multiplies its scores, a value's its
/// probabilities (after the softmax's sum): per block, not per element.
/// </summary>
internal static unsafe class DecodeAttentionKernel<TOps, TVec>
    where TOps : ISimd<TVec>
    where TVec : unmanaged
{
    /// <summary>Longest query length this kernel takes; beyond it the tiled kernel's register tiles win.</summary>
    public const int MaxQueryLength = 4;

    /// <summary>Keys per online-softmax step (the block loop's).</summary>
    private const int KeyBlock = DecodeBlockSteps<TOps, TVec>.KeyBlock;

    /// <summary>Chunks shorter than this cost more in merging than they gain in parallelism.</summary>
    private const int MinChunkKeys = 512;

    /// <summary>
    /// Most scratch floats one work item holds (64 MiB). A head's state grows with its rows (Lq·group) and head dims:
    /// past this (query groups of many thousands of heads) the tiled kernel, whose scratch does not grow with the
    /// group, runs the call, and an item takes fewer side-by-side KV heads to stay under it.
    /// </summary>
    private const long MaxItemScratchFloats = 1 << 24;

    /// <summary>
    /// Most KV heads one work item takes side by side: each has a step struct and four row pointers on the stack
    /// (about 8 KiB at this count).
    /// </summary>
    private const int MaxHeadsPerItem = 128;

    /// <summary>
    /// Whether this kernel runs <paramref name="p"/>: few queries, no probabilities requested, and a head's state
    /// within <see cref="MaxItemScratchFloats"/>.
    /// </summary>
    public static bool Takes(AttentionProblem p) =>
        p.QueryLength <= MaxQueryLength && !p.WantsProbabilities && HeadScratchFloats(p) <= MaxItemScratchFloats;

    /// <summary>
    /// Scratch floats of a call: per worker a function of the rows (Lq·group) and head dims, plus the split-KV
    /// partial states, bounded by the worker count — never a function of Lk.
    /// </summary>
    public static long ScratchFloats(AttentionProblem p, int threads, bool scaled)
    {
        int groups = p.Batch * p.KeyValueHeads;
        int rows = p.QueryLength * p.GroupSize;
        int heads = HeadsPerItem(p);
        int chunks = ChunkCount(p, threads, groups / heads);
        long partials = chunks == 1 ? 0 : (long)groups * chunks * rows * (p.ValueHeadDim + 2);
        long perWorker = new ScratchLayout(p, rows, scaled).Floats * heads;
        return (perWorker * Math.Clamp(threads, 1, groups / heads * chunks)) + partials;
    }

    /// <summary>
    /// KV heads one work item takes together: all of them where a key's rows of the heads lie side by side (a [B, L,
    /// H, D] cache), so that each step reads one contiguous run of Hkv rows instead of one row per 4 KiB page; one
    /// where each head's rows are contiguous (BHSD).
    /// </summary>
    /// <remarks>At most <see cref="MaxHeadsPerItem"/> heads and <see cref="MaxItemScratchFloats"/> of state: then the
    /// largest divisor of Hkv within both, so that items split the heads evenly.</remarks>
    private static int HeadsPerItem(AttentionProblem p)
    {
        if (p.KeyValueHeads == 1 || p.Key.Head >= p.Key.Sequence || p.Value.Head >= p.Value.Sequence)
        {
            return 1;
        }

        int heads = (int)Math.Min(Math.Min(p.KeyValueHeads, MaxHeadsPerItem), MaxItemScratchFloats / HeadScratchFloats(p));
        while (heads > 1 && p.KeyValueHeads % heads != 0)
        {
            heads--;
        }

        return Math.Max(heads, 1);
    }

    /// <summary>A head's scratch floats with scaled rows (the most it takes, whatever the element type).</summary>
    private static long HeadScratchFloats(AttentionProblem p) =>
        new ScratchLayout(p, p.QueryLength * p.GroupSize, scaled: true).Floats;

    private static int ChunkCount(AttentionProblem p, int threads, int groups) =>
        (int)Math.Clamp(((2L * threads) + groups - 1) / groups, 1, Math.Max(1, p.KeyLength / MinChunkKeys));

    /// <summary>The call's own K and V (of its element type <typeparamref name="T"/>).</summary>
    public static void Run<T>(AttentionProblem p, in Operands<T> operands, int threads)
        where T : unmanaged =>
        Run(p, operands, new KeyValueRows<T> { Key = operands.Key, Value = operands.Value }, threads);

    /// <summary>
    /// K and V from <paramref name="kv"/> (an int8 cache with its scales, or rows of the operand type); Q, O, the
    /// log-sum-exp, mask and bias from <paramref name="operands"/>.
    /// </summary>
    public static void Run<T, TKv>(AttentionProblem p, in Operands<T> operands, KeyValueRows<TKv> kv, int threads)
        where T : unmanaged
        where TKv : unmanaged
    {
        int groups = p.Batch * p.KeyValueHeads;
        int heads = HeadsPerItem(p);
        int rowCount = p.QueryLength * p.GroupSize;
        int chunks = ChunkCount(p, threads, groups / heads);
        int items = groups / heads * chunks;
        var layout = new ScratchLayout(p, rowCount, kv.IsScaled);
        int workers = Math.Clamp(threads, 1, items);
        int stateFloats = p.ValueHeadDim + 2;
        long workerFloats = layout.Floats * heads;
        using var scratch = new AlignedMemoryHandle((nuint)(workerFloats * workers) * sizeof(float), zero: false);
        using var partials = chunks == 1 ? null
            : new AlignedMemoryHandle((nuint)((long)groups * chunks * rowCount * stateFloats) * sizeof(float), zero: false);
        var ops = operands;
        float* scratchBase = (float*)scratch.Pointer;
        float* partialBase = partials is null ? null : (float*)partials.Pointer;
        CpuParallel.For(items, workers, (item, worker) =>
        {
            int firstGroup = item / chunks * heads;
            int chunk = item % chunks;
            float* workerState = scratchBase + (worker * workerFloats);
            RunChunk(p, ops, kv, layout, workerState, firstGroup / p.KeyValueHeads, firstGroup % p.KeyValueHeads, heads,
                chunk, chunks);
            for (int h = 0; h < heads; h++)
            {
                int group = firstGroup + h;
                float* state = workerState + ((long)h * layout.Floats);
                if (partialBase is null)
                {
                    Finish(p, ops, group, 1, state + layout.Max, state + layout.Sum, state + layout.Accumulator, p.ValueHeadDim);
                    continue;
                }

                float* partial = partialBase + ((((long)group * chunks) + chunk) * rowCount * stateFloats);
                for (int r = 0; r < rowCount; r++)
                {
                    float* target = partial + (r * stateFloats);
                    target[0] = state[layout.Max + r];
                    target[1] = state[layout.Sum + r];
                    new Span<float>(state + layout.Accumulator + (r * p.ValueHeadDim), p.ValueHeadDim)
                        .CopyTo(new Span<float>(target + 2, p.ValueHeadDim));
                }
            }
        });

        if (partialBase is not null)
        {
            CpuParallel.For(groups, workers, (group, _) =>
                Finish(p, ops, group, chunks, partialBase + ((long)group * chunks * rowCount * stateFloats), null, null, 0));
        }
    }

    /// <summary>
    /// One chunk of keys for <paramref name="heads"/> consecutive KV heads of a batch, each with its own state slice of
    /// <paramref name="state"/> (<see cref="ScratchLayout.Floats"/> apart).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunChunk<T, TKv>(
        AttentionProblem p, in Operands<T> ops, in KeyValueRows<TKv> kv, in ScratchLayout layout, float* state, int batch,
        int firstHead, int heads, int chunk, int chunks)
        where T : unmanaged
        where TKv : unmanaged
    {
        int rows = p.QueryLength * p.GroupSize;
        int dim = p.HeadDim;
        int valueDim = p.ValueHeadDim;
        // A row's key range is a function of the batch and its query only: every head's rows share the first
        // slice's.
        int* rowLo = (int*)(state + layout.RowLo);
        int* rowHi = (int*)(state + layout.RowHi);
        for (int r = 0; r < rows; r++)
        {
            (rowLo[r], rowHi[r]) = p.KeyRange(batch, r / p.GroupSize);
        }

        var steps = stackalloc DecodeBlockSteps<TOps, TVec>[heads];
        for (int h = 0; h < heads; h++)
        {
            steps[h] = Prepare(p, ops, layout, state + ((long)h * layout.Floats), batch, firstHead + h);
        }
        int keysLo = rowLo[0];
        int span = rowHi[rows - 1] - keysLo;
        // In 64 bits: with keys near int.MaxValue (zero-stride K and V), (chunk + 1)·chunkKeys passes it.
        long chunkKeys = ((long)span + chunks - 1) / chunks;
        int from = keysLo + (int)Math.Min(span, chunk * chunkKeys);
        int to = keysLo + (int)Math.Min(span, (chunk + 1) * chunkKeys);
        if (from >= to)
        {
            return;
        }

        // Rows that follow one another in memory are two long sequential streams per operand, which the hardware
        // prefetchers keep ahead of (software prefetch on top cost 5–15 %: GQA 32/8, Lk 4096, D 128, BHSD); so are a
        // [B, L, H, D] cache's rows when all heads go together. Rows with gaps between them (padded strides, or part
        // of the heads) break every stream at each row, and there the prefetch took GQA 32/8 from 24–26 % to 30–42 %
        // of the read bandwidth. A paged cache's streams break at every page: where an item is one head, its float
        // rows are prefetched a few steps ahead (PageStreamAhead; 32 steps ahead, as for gaps, cost head-major pages
        // of 16 and 64 10–15 %), and its narrower rows too (NarrowPageStreamAhead). Where an item takes all of a
        // position's heads (position-major pages), a page is one run of 16 positions' heads (64 KiB of float for GQA
        // 32/8, D 128), which the hardware prefetchers follow: prefetching each head's rows there took float pages of
        // 16 from 0.88–0.89× of contiguous BHSD to 0.74–0.81× (GQA 32/8), and from 0.77–0.84× to 0.64–0.68× (MHA).
        bool pagesOfOneHead = p.Paging is not null && heads == 1;
        var fetch = pagesOfOneHead && typeof(TKv) == typeof(float) ? RowFetch.Pages
            : pagesOfOneHead ? RowFetch.NarrowPages
            : p.Key.Sequence > (long)heads * dim || p.Value.Sequence > (long)heads * valueDim ? RowFetch.Rows
            : RowFetch.None;
        if (p.Paging is null)
        {
            Blocks<T, TKv, StridedRows, StridedRowLookup>(p, ops, kv, layout, state, steps, rowLo, rowHi, batch, firstHead,
                heads, from, to, new StridedRowLookup(p, p.Key, batch), new StridedRowLookup(p, p.Value, batch), fetch);
        }
        else
        {
            long* tables = stackalloc long[2 * PagedRowLookup.TableSize];
            Blocks<T, TKv, TableRows, PagedRowLookup>(p, ops, kv, layout, state, steps, rowLo, rowHi, batch, firstHead,
                heads, from, to, new PagedRowLookup(p, p.Key, batch, to, tables),
                new PagedRowLookup(p, p.Value, batch, to, tables + PagedRowLookup.TableSize), fetch);
        }
    }

    /// <summary>
    /// The block loop of <see cref="RunChunk"/> over keys [<paramref name="from"/>, <paramref name="to"/>), K and V rows
    /// found through <paramref name="keyLookup"/> and <paramref name="valueLookup"/>; <paramref name="fetch"/>: how the
    /// rows are prefetched.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Blocks<T, TKv, TRows, TLookup>(
        AttentionProblem p, in Operands<T> ops, in KeyValueRows<TKv> kv, in ScratchLayout layout, float* state,
        DecodeBlockSteps<TOps, TVec>* steps, int* rowLo, int* rowHi, int batch, int firstHead, int heads, int from, int to,
        TLookup keyLookup, TLookup valueLookup, RowFetch fetch)
        where T : unmanaged
        where TKv : unmanaged
        where TRows : struct, IBlockRows
        where TLookup : struct, IBlockRowLookup<TRows>
    {
        int rows = p.QueryLength * p.GroupSize;

        // Software-pipelined over blocks: the scores of block b + 1 are computed key by key alongside the weighted
        // values of block b (DecodeBlockSteps), so K and V stream from memory together; with several heads, each step
        // goes through the heads in address order. Two score buffers per head: the probabilities of block b are read
        // while the scores of block b + 1 are written.
        float** current = stackalloc float*[heads];
        float** next = stackalloc float*[heads];
        TKv** values = stackalloc TKv*[heads];
        TKv** keys = stackalloc TKv*[heads];
        int firstKeys = BlockKeys(from, to);
        TRows keyRows = keyLookup.Rows(from);
        for (int h = 0; h < heads; h++)
        {
            float* headState = state + ((long)h * layout.Floats);
            current[h] = headState + layout.Scores;
            next[h] = current[h] + (rows * KeyBlock);
            steps[h].ScoreRows(kv.Key + keyLookup.HeadOffset(firstHead + h, from), keyRows, firstKeys, current[h]);
            FinishScores(p, ops, kv, layout, headState, rowLo, rowHi, batch, firstHead + h, current[h], firstKeys, from);
        }

        // Stepping by the block's own key count: blockStart + KeyBlock would wrap past int.MaxValue in the last
        // block of a key range that ends near it.
        for (int blockStart = from, blockKeys; blockStart < to; blockStart += blockKeys)
        {
            blockKeys = BlockKeys(blockStart, to);
            int nextStart = blockStart + blockKeys;
            int nextKeys = nextStart < to ? BlockKeys(nextStart, to) : 0;
            TRows valueRows = valueLookup.Rows(blockStart);
            keyRows = nextKeys == 0 ? default : keyLookup.Rows(nextStart);
            for (int h = 0; h < heads; h++)
            {
                values[h] = kv.Value + valueLookup.HeadOffset(firstHead + h, blockStart);
                keys[h] = nextKeys == 0 ? null : kv.Key + keyLookup.HeadOffset(firstHead + h, nextStart);
                steps[h].Rescale(state + ((long)h * layout.Floats) + layout.Rescale);
            }

            if (nextKeys > 0 && kv.IsScaled && p.Paging is { } paging)
            {
                FetchPagedScales(paging, kv, batch, firstHead, heads, nextStart, nextKeys);
            }

            if (fetch == RowFetch.Pages)
            {
                Steps(steps, heads, current, next, values, valueRows, blockKeys, keys, keyRows, nextKeys, default(PageStreamAhead));
            }
            else if (fetch == RowFetch.NarrowPages)
            {
                Steps(steps, heads, current, next, values, valueRows, blockKeys, keys, keyRows, nextKeys, default(NarrowPageStreamAhead));
            }
            else if (fetch == RowFetch.Rows)
            {
                Steps(steps, heads, current, next, values, valueRows, blockKeys, keys, keyRows, nextKeys, default(StreamAhead));
            }
            else
            {
                Steps(steps, heads, current, next, values, valueRows, blockKeys, keys, keyRows, nextKeys, default(NoStreamAhead));
            }

            // Every block but the chunk's last is full: the fused loop scored all of the next block's keys.
            for (int h = 0; h < heads; h++)
            {
                float* done = current[h];
                current[h] = next[h];
                next[h] = done;
                if (nextKeys > 0)
                {
                    FinishScores(p, ops, kv, layout, state + ((long)h * layout.Floats), rowLo, rowHi, batch, firstHead + h,
                        current[h], nextKeys, nextStart);
                }
            }
        }
    }

    /// <summary>
    /// Prefetches into L2 the key and value scales of the block of <paramref name="keys"/> keys from
    /// <paramref name="start"/> for the item's heads, one range per page: a paged cache's per-key scales lie in a line
    /// or two per page, and <see cref="FinishScores"/> otherwise waits on a miss for each (MHA 32/32, int8, pages of 16,
    /// head-major, one Zen 3 thread: FinishScores fell from 7.5 % to 4.1 % of the profile, paged over contiguous rose
    /// from 0.54–0.57× to 0.61–0.67×; GQA 32/8 0.75–0.77× to 0.81–0.86×). Scales per head alone (e4m3) need none.
    /// </summary>
    private static void FetchPagedScales<TKv>(
        KeyValuePaging paging, in KeyValueRows<TKv> kv, int batch, int firstHead, int heads, int start, int keys)
        where TKv : unmanaged
    {
        var strides = kv.ScaleStrides;
        if (strides.Sequence == 0)
        {
            return;
        }

        long tableIndex = ((long)batch * paging.PagesPerSequence) + (start / paging.PageSize);
        int slot = start % paging.PageSize;
        long headLo = firstHead * strides.Head;
        long headHi = (firstHead + heads - 1) * strides.Head;
        for (int j = 0; j < keys; slot = 0)
        {
            int run = Math.Min(keys - j, paging.PageSize - slot);
            long first = (paging.BlockTable[tableIndex++] * strides.Batch) + (slot * strides.Sequence);
            long lo = first + headLo;
            int bytes = (int)((first + ((run - 1) * strides.Sequence) + headHi - lo + 1) * sizeof(float));
            StreamAhead.Lines((byte*)(kv.KeyScales + lo), bytes, level2: true);
            StreamAhead.Lines((byte*)(kv.ValueScales + lo), bytes, level2: true);
            j += run;
        }
    }

    /// <summary>A head's queries (scaled for base 2) and zeroed softmax state; its block loop.</summary>
    private static DecodeBlockSteps<TOps, TVec> Prepare<T>(
        AttentionProblem p, in Operands<T> ops, in ScratchLayout layout, float* state, int batch, int kvHead)
        where T : unmanaged
    {
        int group = p.GroupSize;
        int rows = p.QueryLength * group;
        int dim = p.HeadDim;
        float* queries = state + layout.Queries;

        // Row r is query r / group of head kvHead·group + r % group.
        float factor = p.Scale * Log2E;
        for (int r = 0; r < rows; r++)
        {
            int query = r / group;
            int head = (kvHead * group) + (r % group);
            T* source = ops.Query + (batch * p.Query.Batch) + (head * p.Query.Head) + (query * p.Query.Sequence);
            for (int x = 0; x < dim; x++)
            {
                queries[(r * dim) + x] = ElementType.ToSingle(source[x]) * factor;
            }
        }

        new Span<float>(state + layout.Max, rows).Fill(float.NegativeInfinity);
        new Span<float>(state + layout.Sum, rows).Clear();
        new Span<float>(state + layout.Accumulator, rows * p.ValueHeadDim).Clear();
        return new DecodeBlockSteps<TOps, TVec>(queries, dim, p.ValueHeadDim, rows, state + layout.Accumulator);
    }

    /// <summary>
    /// Keys of the block from <paramref name="start"/>: up to <see cref="KeyBlock"/>, within the chunk's end (a paged
    /// cache's blocks span pages: <see cref="PagedRowLookup"/>).
    /// </summary>
    private static int BlockKeys(int start, int end) => Math.Min(KeyBlock, end - start);

    /// <summary>
    /// A block's loop for every head of the item. One head, or heads of fewer than four rows (MHA): step by step each
    /// head's V rows of this block and K rows of the next, fused (<see cref="DecodeBlockSteps{TOps, TVec}.Step"/>).
    /// Several heads of four rows or more (GQA): step by step every head's V rows, then step by step every head's K
    /// rows of the next block, so that one pass's state of all the heads stays in L1
    /// (<see cref="DecodeBlockSteps{TOps, TVec}.ValueStep"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Steps<TKv, TAhead, TRows>(
        DecodeBlockSteps<TOps, TVec>* steps, int heads, float** probabilities, float** nextScores, TKv** values,
        TRows valueRows, int keys, TKv** nextKeyRows, TRows keyRows, int nextKeys, TAhead ahead)
        where TKv : unmanaged
        where TAhead : struct, IStreamAhead
        where TRows : struct, IBlockRows
    {
        if (heads == 1)
        {
            // The loop inside the head's own struct keeps its fields in registers: the interleaving loop below, run
            // for one head, read GQA 32/8 (BHSD) about 7 points of the read bandwidth slower.
            steps->Run(*probabilities, *nextScores, *values, valueRows, keys, *nextKeyRows, keyRows, nextKeys, ahead);
            return;
        }

        int half = (keys + 1) / 2;
        int nextHalf = (nextKeys + 1) / 2;
        if (steps->QueryRows < DecodeKeySteps<TOps, TVec>.Rows)
        {
            for (int i = 0; i < half; i++)
            {
                for (int h = 0; h < heads; h++)
                {
                    steps[h].Step(i, probabilities[h], nextScores[h], values[h], valueRows, keys, half, nextKeyRows[h],
                        keyRows, nextKeys, nextHalf, ahead);
                }
            }

            return;
        }

        for (int i = 0; i < half; i++)
        {
            for (int h = 0; h < heads; h++)
            {
                steps[h].ValueStep(i, probabilities[h], values[h], valueRows, keys, half, ahead);
            }
        }

        for (int i = 0; i < nextHalf; i++)
        {
            for (int h = 0; h < heads; h++)
            {
                steps[h].KeyStep(i, nextScores[h], nextKeyRows[h], keyRows, nextKeys, nextHalf, ahead);
            }
        }
    }

    /// <summary>
    /// A head's block of scores into probabilities: the keys' scales (int8 rows), −∞ past its keys, the masks and
    /// biases, then one online-softmax step per row (the factor that rescales the row's accumulator into the state's
    /// rescale slots), and the values' scales folded into the probabilities the accumulators take (int8 rows; the
    /// softmax's sum is of the unscaled ones).
    /// </summary>
    private static void FinishScores<T, TKv>(
        AttentionProblem p, in Operands<T> ops, in KeyValueRows<TKv> kv, in ScratchLayout layout, float* state, int* rowLo,
        int* rowHi, int batch, int kvHead, float* scores, int keys, int blockStart)
        where T : unmanaged
        where TKv : unmanaged
    {
        var modifiers = new DecodeScoreModifiers(p, ops.Mask, ops.Bias, batch, kvHead);
        int rows = p.QueryLength * p.GroupSize;
        float* max = state + layout.Max;
        float* sum = state + layout.Sum;
        float* rescale = state + layout.Rescale;
        float* keyScales = state + layout.KeyScales;
        float* valueScales = state + layout.ValueScales;
        if (kv.IsScaled)
        {
            var strides = kv.ScaleStrides;
            if (p.Paging is { } paging)
            {
                long* offsets = stackalloc long[KeyBlock];
                paging.RowOffsets(offsets, keys, batch, blockStart, strides);
                long head = kvHead * strides.Head;
                for (int j = 0; j < keys; j++)
                {
                    keyScales[j] = kv.KeyScales[offsets[j] + head];
                    valueScales[j] = kv.ValueScales[offsets[j] + head];
                }
            }
            else
            {
                for (long j = 0, at = p.RowOffset(strides, batch, kvHead, blockStart); j < keys; j++, at += strides.Sequence)
                {
                    keyScales[j] = kv.KeyScales[at];
                    valueScales[j] = kv.ValueScales[at];
                }
            }
        }

        // Whole vectors only: a short last block (or a short cache) is not padded to the full block.
        int padded = Math.Min(KeyBlock, (keys + TOps.Width - 1) / TOps.Width * TOps.Width);
        for (int r = 0; r < rows; r++)
        {
            float* s = scores + (r * KeyBlock);
            if (kv.IsScaled)
            {
                MultiplyBy(s, keyScales, keys);
            }

            new Span<float>(s + keys, padded - keys).Fill(float.NegativeInfinity);
            modifiers.Apply(s, keys, blockStart, r, rowLo[r], rowHi[r]);
            rescale[r] = Softmax(s, padded, max + r, sum + r);
            if (kv.IsScaled)
            {
                MultiplyBy(s, valueScales, keys);
            }
        }
    }

    /// <summary><c>values[j] ·= factors[j]</c> for the first <paramref name="count"/> (a block's keys).</summary>
    private static void MultiplyBy(float* values, float* factors, int count)
    {
        int j = 0;
        for (; j + TOps.Width <= count; j += TOps.Width)
        {
            TOps.Store(values + j, TOps.Multiply(TOps.Load(values + j), TOps.Load(factors + j)));
        }

        for (; j < count; j++)
        {
            values[j] *= factors[j];
        }
    }

    /// <summary>
    /// Online-softmax step for one row over <paramref name="count"/> scores (whole vectors, −∞-padded); returns the
    /// rescale factor.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Softmax(float* scores, int count, float* max, float* sum)
    {
        int w = TOps.Width;
        TVec blockMax = TOps.Broadcast(float.NegativeInfinity);
        for (int j = 0; j < count; j += w)
        {
            blockMax = TOps.Max(blockMax, TOps.Load(scores + j));
        }

        float newMax = MathF.Max(*max, TOps.MaxAcross(blockMax));
        float subtrahend = float.IsNegativeInfinity(newMax) ? 0f : newMax;
        float rescale = ScalarOps.Exp2(*max - subtrahend);
        TVec shift = TOps.Broadcast(subtrahend);
        TVec total = TOps.Zero;
        for (int j = 0; j < count; j += w)
        {
            TVec e = TOps.Exp2(TOps.Subtract(TOps.Load(scores + j), shift));
            TOps.Store(scores + j, e);
            total = TOps.Add(total, e);
        }

        *max = newMax;
        *sum = (*sum * rescale) + TOps.Sum(total);
        return rescale;
    }

    /// <summary>
    /// Merges <paramref name="chunks"/> partial states per row (max, sum, accumulator) and writes O and the
    /// log-sum-exp. With one chunk the state comes from the worker's scratch in three arrays.
    /// </summary>
    private static void Finish<T>(
        AttentionProblem p, in Operands<T> ops, int group, int chunks, float* states, float* sums, float* accumulators,
        int accumulatorStride)
        where T : unmanaged
    {
        int batch = group / p.KeyValueHeads;
        int kvHead = group % p.KeyValueHeads;
        int rows = p.QueryLength * p.GroupSize;
        int valueDim = p.ValueHeadDim;
        int stateFloats = valueDim + 2;
        Span<float> merged = valueDim <= 1024 ? stackalloc float[valueDim] : new float[valueDim];
        for (int r = 0; r < rows; r++)
        {
            float max = float.NegativeInfinity;
            float sum = 0;
            merged.Clear();
            if (chunks == 1)
            {
                max = states[r];
                sum = sums[r];
                new Span<float>(accumulators + (r * accumulatorStride), valueDim).CopyTo(merged);
            }
            else
            {
                for (int c = 0; c < chunks; c++)
                {
                    max = MathF.Max(max, states[((((long)c * rows) + r) * stateFloats)]);
                }

                float subtrahend = float.IsNegativeInfinity(max) ? 0f : max;
                for (int c = 0; c < chunks; c++)
                {
                    float* state = states + ((((long)c * rows) + r) * stateFloats);
                    float weight = ScalarOps.Exp2(state[0] - subtrahend);
                    sum += state[1] * weight;
                    for (int x = 0; x < valueDim; x++)
                    {
                        merged[x] += state[2 + x] * weight;
                    }
                }
            }

            int query = r / p.GroupSize;
            int head = (kvHead * p.GroupSize) + (r % p.GroupSize);
            float sink = p.SinkOf(head);
            sum = SinkSoftmax.Fold(max, sum, sink);
            float inverse = sum > 0 ? 1f / sum : 0f;
            T* output = ops.Output + (batch * p.Output.Batch) + (head * p.Output.Head) + (query * p.Output.Sequence);
            for (int x = 0; x < valueDim; x++)
            {
                output[x] = ElementType.FromSingle<T>(merged[x] * inverse);
            }

            if (ops.LogSumExp is not null)
            {
                ops.LogSumExp[(((long)batch * p.QueryHeads) + head) * p.QueryLength + query] =
                    SinkSoftmax.LogSumExp(max + MathF.Log2(sum), sum, sink);
            }
        }
    }

    /// <summary>How the block loop prefetches K and V rows.</summary>
    private enum RowFetch
    {
        /// <summary>Not at all: the hardware prefetchers follow the rows.</summary>
        None,

        /// <summary>Each row, far ahead (<see cref="StreamAhead"/>): rows with gaps between them.</summary>
        Rows,

        /// <summary>Each row, a few steps ahead (<see cref="PageStreamAhead"/>): a paged cache's float rows, one head per
        /// item.</summary>
        Pages,

        /// <summary>Each row, a few steps ahead (<see cref="NarrowPageStreamAhead"/>): a paged cache's narrower rows, one
        /// head per item.</summary>
        NarrowPages,
    }

    /// <summary>
    /// Offsets (in floats) of one head's scratch regions, each 64-byte aligned; in 64 bits, as rows (Lq·group) times
    /// a head dim passes int range for valid shapes (<see cref="Takes"/> then leaves the call to the tiled kernel).
    /// </summary>
    private readonly struct ScratchLayout
    {
        public ScratchLayout(AttentionProblem p, int rows, bool scaled)
        {
            long offset = 0;
            Queries = OperandRows.TakeScratch(ref offset, (long)rows * p.HeadDim);
            Max = OperandRows.TakeScratch(ref offset, rows);
            Sum = OperandRows.TakeScratch(ref offset, rows);
            Accumulator = OperandRows.TakeScratch(ref offset, (long)rows * p.ValueHeadDim);
            Scores = OperandRows.TakeScratch(ref offset, 2L * rows * KeyBlock);
            Rescale = OperandRows.TakeScratch(ref offset, rows);
            RowLo = OperandRows.TakeScratch(ref offset, rows);
            RowHi = OperandRows.TakeScratch(ref offset, rows);
            KeyScales = OperandRows.TakeScratch(ref offset, scaled ? KeyBlock : 0);
            ValueScales = OperandRows.TakeScratch(ref offset, scaled ? KeyBlock : 0);
            Floats = offset;
        }

        public long Queries { get; }

        public long Max { get; }

        public long Sum { get; }

        public long Accumulator { get; }

        public long Scores { get; }

        public long Rescale { get; }

        public long RowLo { get; }

        public long RowHi { get; }

        /// <summary>A block's key scales (int8 rows).</summary>
        public long KeyScales { get; }

        /// <summary>A block's value scales (int8 rows).</summary>
        public long ValueScales { get; }

        public long Floats { get; }
    }
}
