namespace Attention.Native.Layers;

/// <summary>Continuous batching: steps of any set of sequences of a paged key/value cache, decoding and prefilling.</summary>
public sealed partial class MultiHeadAttention<T>
{
    /// <summary>Creates an empty paged key/value cache for <see cref="ForwardPagedStep(PagedKeyValueCache{T}, ReadOnlySpan{int}, ReadOnlySpan{int}, AttentionTensor{T}, AttentionTensor{T})"/>.</summary>
    /// <param name="pageSize">Positions per page (16 to 256 are usual).</param>
    /// <param name="pageCount">Pages in the pool: all sequences together hold at most <c>pageSize·pageCount</c> positions.</param>
    /// <param name="storage">How it stores keys and values: in <typeparamref name="T"/>, or as int8 with a scale per
    /// (position, KV head) (<see cref="KeyValueCacheStorage.Int8"/>), or as fp8 e4m3 with a scale per KV head
    /// (<see cref="KeyValueCacheStorage.Float8E4M3"/>).</param>
    /// <param name="scales">The per-KV-head scales of a <see cref="KeyValueCacheStorage.Float8E4M3"/> cache; null to take
    /// them from its first append (<c>max|x| / 448</c> per head).</param>
    /// <returns>The cache, on this layer's backend; dispose it.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pageSize"/> or <paramref name="pageCount"/> is below 1,
    /// <paramref name="storage"/> is not a defined <see cref="KeyValueCacheStorage"/>, or the pool would pass a buffer's
    /// limit.</exception>
    /// <exception cref="ArgumentException"><paramref name="scales"/> is given for another storage than
    /// <see cref="KeyValueCacheStorage.Float8E4M3"/>, or does not hold one finite scale above 0 per KV head.</exception>
    /// <exception cref="ObjectDisposedException">The layer was disposed.</exception>
    public PagedKeyValueCache<T> CreatePagedCache(
        int pageSize, int pageCount, KeyValueCacheStorage storage = KeyValueCacheStorage.Element, KeyValueScales? scales = null)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(pageCount, 1);
        if (!Enum.IsDefined(storage))
        {
            throw new ArgumentOutOfRangeException(nameof(storage), storage, "storage is not a defined KeyValueCacheStorage.");
        }

        RequireScalesFit(storage, scales);

        return new PagedKeyValueCache<T>(this, engine, pageSize, pageCount, storage, dims.KeyValueHeads, dims.KeyRows, dims.ValueRows, scales);
    }

    /// <summary>
    /// One decoding step of self-attention for several sequences of a paged cache at once (continuous batching):
    /// projects one new token per listed sequence, appends its key and value to that sequence's pages, and attends
    /// over that sequence's positions (the new one included). Sequences of any lengths, in any order, and any subset
    /// of the cache's; each row equals the same step of <see cref="ForwardStep(KeyValueCache{T}, AttentionTensor{T}, AttentionTensor{T}, LayerMasks?, AttentionTensor{float}?, AttentionWeightsMode)"/> on the
    /// sequence alone.
    /// </summary>
    /// <param name="cache">The cache of this layer (from <see cref="CreatePagedCache"/>).</param>
    /// <param name="sequences">The sequences that take a token, each once: ids from
    /// <see cref="PagedKeyValueCache{T}.AddSequence"/>.</param>
    /// <param name="query">The new tokens, <c>[n, E]</c>: row i is the token of <c>sequences[i]</c>.</param>
    /// <param name="output">The result, <c>[n, E]</c>.</param>
    /// <exception cref="ArgumentNullException">A required argument is null.</exception>
    /// <exception cref="ArgumentException">The cache belongs to another layer, <paramref name="sequences"/> is empty,
    /// repeats a sequence or names one not in the cache, a tensor's length is not <c>n·E</c>, or the layer's kdim/vdim
    /// differ from E (the message names the parameter). Nothing is written then.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A head dim is above the backend's limit. Nothing is written then.</exception>
    /// <exception cref="InvalidOperationException">The pool has fewer free pages than the step needs (nothing is
    /// written then), or another call is running on this layer or this cache.</exception>
    /// <exception cref="ObjectDisposedException">The layer, cache or a tensor was disposed.</exception>
    public void ForwardPagedStep(
        PagedKeyValueCache<T> cache, ReadOnlySpan<int> sequences, AttentionTensor<T> query, AttentionTensor<T> output) =>
        PagedStep(cache, sequences, default, query, output);

    /// <summary>
    /// One step of self-attention for several sequences of a paged cache at once, each taking its own number of new
    /// tokens (chunked prefill beside decoding): projects the tokens, appends their keys and values to each sequence's
    /// pages, and attends with bottom-right causal alignment over each sequence's positions (its new token i sees its
    /// cached positions and new tokens up to i). A prompt's whole prefill is one entry; each row equals the same row
    /// of one causal forward over the sequence's whole history. Sequences with the same token count attend in one
    /// call of the backend's paged kernel (the decode kernel for up to four tokens, the tiled prefill kernel beyond).
    /// </summary>
    /// <param name="cache">The cache of this layer (from <see cref="CreatePagedCache"/>).</param>
    /// <param name="sequences">The sequences that take tokens, each once: ids from
    /// <see cref="PagedKeyValueCache{T}.AddSequence"/>.</param>
    /// <param name="tokenCounts">New tokens of each listed sequence, each at least 1.</param>
    /// <param name="query">The new tokens, <c>[Σ tokenCounts, E]</c>: sequence i's rows one after another, in the order
    /// of <paramref name="sequences"/>.</param>
    /// <param name="output">The result, <c>[Σ tokenCounts, E]</c>, in the rows of <paramref name="query"/>.</param>
    /// <exception cref="ArgumentNullException">A required argument is null.</exception>
    /// <exception cref="ArgumentException">The cache belongs to another layer, <paramref name="sequences"/> is empty,
    /// repeats a sequence or names one not in the cache, <paramref name="tokenCounts"/> does not have one entry per
    /// sequence, a tensor's length is not <c>Σ tokenCounts · E</c>, or the layer's kdim/vdim differ from E (the message
    /// names the parameter). Nothing is written then.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A token count is below 1, or a head dim is above the backend's limit.
    /// Nothing is written then.</exception>
    /// <exception cref="InvalidOperationException">The pool has fewer free pages than the step needs (nothing is
    /// written then), or another call is running on this layer or this cache.</exception>
    /// <exception cref="ObjectDisposedException">The layer, cache or a tensor was disposed.</exception>
    public void ForwardPagedStep(
        PagedKeyValueCache<T> cache, ReadOnlySpan<int> sequences, ReadOnlySpan<int> tokenCounts, AttentionTensor<T> query,
        AttentionTensor<T> output)
    {
        if (tokenCounts.Length != sequences.Length)
        {
            throw new ArgumentException(
                $"tokenCounts has {tokenCounts.Length} entries; it needs one per sequence ({sequences.Length}).", nameof(tokenCounts));
        }

        PagedStep(cache, sequences, tokenCounts, query, output);
    }

    /// <summary>The paged step; <paramref name="counts"/> empty means one token per sequence.</summary>
    private void PagedStep(
        PagedKeyValueCache<T> cache, ReadOnlySpan<int> sequences, ReadOnlySpan<int> counts, AttentionTensor<T> query,
        AttentionTensor<T> output)
    {
        ThrowIfDisposed();
        using var call = guard.Enter();
        ArgumentNullException.ThrowIfNull(cache);
        ObjectDisposedException.ThrowIf(cache.IsDisposed, cache);
        RequireStepOn(cache.Owner);
        using var cacheCall = cache.Guard.Enter();
        var d = dims;

        int n = sequences.Length;
        if (n == 0)
        {
            throw new ArgumentException("sequences must name at least one sequence.", nameof(sequences));
        }

        var seen = new HashSet<int>();
        var starts = new int[n + 1];
        for (int i = 0; i < n; i++)
        {
            int s = sequences[i];
            cache.PagesOf(s, nameof(sequences));
            if (!seen.Add(s))
            {
                throw new ArgumentException($"sequences names sequence {s} twice; a step lists each sequence once.", nameof(sequences));
            }

            int count = counts.IsEmpty ? 1 : counts[i];
            if (count < 1)
            {
                throw new ArgumentOutOfRangeException("tokenCounts", count, $"tokenCounts[{i}] is {count}; each sequence takes at least 1 token.");
            }

            starts[i + 1] = checked(starts[i] + count);
        }

        int total = starts[n];
        if (SequenceLength(query, total, d.ModelDim, nameof(query)) != 1)
        {
            throw new ArgumentException($"query must hold the new tokens' rows: [{total}, E={d.ModelDim}].", nameof(query));
        }

        RequireOutput(output, total, 1, query);
        cache.ThrowIfNoRoom(sequences, counts);

        // What the attention would reject for any lengths (the backend's head-dim limit), rejected before the pool
        // takes the new rows.
        engine.CheckAttention(
            new AttentionShape(n, d.Heads, d.KeyValueHeads, 1, 1, d.KeyDim, d.ValueDim), new AttentionOptions { Scale = d.Scale, Sinks = sinks },
            wantsProbabilities: false);

        // Q, K and V of the new tokens in one product with the packed projection, then each token's K and V row into
        // its sequence's next slot of the pool.
        var qkv = scratch.Get<T>(LayerScratch.Projections, (long)total * d.PackedRows);
        engine.Linear(query, d.ModelDim, total, packedProjection!, InBias(0), qkv, d.PackedRows);
        var positions = new long[total];
        for (int i = 0; i < n; i++)
        {
            for (int r = starts[i]; r < starts[i + 1]; r++)
            {
                positions[r] = cache.Append(sequences[i]);
            }
        }

        var keys = new LayerOperand<T>(qkv, d.QueryRows);
        var values = new LayerOperand<T>(qkv, d.QueryRows + d.KeyRows);
        if (cache.ByteRows is { } pool)
        {
            ((IByteCacheEngine<T>)engine).AppendByteRows(keys, values, d.PackedRows, positions, pool);
        }
        else
        {
            engine.AppendPoolRows(keys, d.PackedRows, positions, cache.KeyPages!, d.KeyValueHeads, d.KeyDim, cache.PageSize, cache.HeadMajor);
            engine.AppendPoolRows(values, d.PackedRows, positions, cache.ValuePages!, d.KeyValueHeads, d.ValueDim, cache.PageSize, cache.HeadMajor);
        }

        // Sequences with the same number of new tokens attend in one call; each call's context rows land in the
        // rows of its sequences' tokens, and one output projection covers them all.
        var context = scratch.Get<T>(LayerScratch.Context, (long)total * d.ContextWidth);
        var sizes = counts.IsEmpty ? [1] : new SortedSet<int>(counts.ToArray());
        foreach (int size in sizes)
        {
            var members = new List<int>();
            for (int i = 0; i < n; i++)
            {
                if (starts[i + 1] - starts[i] == size)
                {
                    members.Add(i);
                }
            }

            AttendGroup(cache, sequences, members, starts, size, qkv, context);
        }

        ProjectContext(context, total, output);
    }

    /// <summary>
    /// Attention of the sequences <paramref name="members"/> (indices into <paramref name="sequences"/>), which all take
    /// <paramref name="size"/> new tokens, from their Q rows of <paramref name="qkv"/> into their rows of
    /// <paramref name="context"/>; in place where they are consecutive in the call, else through gathered copies.
    /// </summary>
    private void AttendGroup(
        PagedKeyValueCache<T> cache, ReadOnlySpan<int> sequences, List<int> members, int[] starts, int size,
        AttentionTensor<T> qkv, AttentionTensor<T> context)
    {
        var d = dims;
        int count = members.Count;
        int longest = 1;
        foreach (int i in members)
        {
            longest = Math.Max(longest, cache.Length(sequences[i]));
        }

        int pagesPerSequence = (longest + cache.PageSize - 1) / cache.PageSize;
        var table = new int[count * pagesPerSequence];
        var lengths = new int[count];
        for (int m = 0; m < count; m++)
        {
            int s = sequences[members[m]];
            cache.PagesOf(s, nameof(sequences)).CopyTo(table, m * pagesPerSequence);
            lengths[m] = cache.Length(s);
        }

        var pages = new PagedKeyValueLayout(cache.PageSize, pagesPerSequence, table, lengths) { HeadMajor = cache.HeadMajor };
        var shape = new AttentionShape(count, d.Heads, d.KeyValueHeads, size, longest, d.KeyDim, d.ValueDim);
        var options = new AttentionOptions
        {
            Scale = d.Scale,
            Causal = size > 1 ? CausalMask.BottomRight : CausalMask.None,
            QueryStrides = Rows(size, d.PackedRows, d.KeyDim),
            OutputStrides = Rows(size, d.ContextWidth, d.ValueDim),
            Sinks = sinks,
        };

        bool inPlace = members[^1] - members[0] == count - 1;
        long queryBlock = (long)size * d.PackedRows, contextBlock = (long)size * d.ContextWidth;
        LayerOperand<T> q = new(qkv, starts[members[0]] * (long)d.PackedRows);
        LayerOperand<T> o = new(context, starts[members[0]] * (long)d.ContextWidth);
        if (!inPlace)
        {
            q = scratch.Get<T>(LayerScratch.Spare, count * queryBlock);
            o = scratch.Get<T>(LayerScratch.GatheredContext, count * contextBlock);
            for (int m = 0; m < count; m++)
            {
                engine.Copy(new(qkv, starts[members[m]] * (long)d.PackedRows), q.At(m * queryBlock), queryBlock);
            }
        }

        AttendPaged(cache, shape, options, q, pages, o);
        if (!inPlace)
        {
            for (int m = 0; m < count; m++)
            {
                engine.Copy(o.At(m * contextBlock), new(context, starts[members[m]] * (long)d.ContextWidth), contextBlock);
            }
        }
    }

    /// <summary>
    /// Paged attention over the cache's pool: an 8-bit pool is read as it is where the decode kernel takes the call,
    /// else the pages the call reads are dequantised into <typeparamref name="T"/> first.
    /// </summary>
    private void AttendPaged(
        PagedKeyValueCache<T> cache, AttentionShape shape, AttentionOptions options, LayerOperand<T> query,
        PagedKeyValueLayout pages, LayerOperand<T> output)
    {
        if (cache.ByteRows is not { } pool)
        {
            engine.PagedAttention(shape, options, query, cache.KeyPages!, cache.ValuePages!, pages, output);
            return;
        }

        var byteEngine = (IByteCacheEngine<T>)engine;
        if (byteEngine.TryPagedAttentionBytes(shape, options, query, pool, pages, output))
        {
            return;
        }

        // The pages the sequences read, each once, renumbered from 0 in a table of their own.
        var table = pages.BlockTable.ToArray();
        var lengths = pages.SequenceLengths.Span;
        var renumbered = new Dictionary<int, int>();
        var read = new List<int>();
        for (int b = 0; b < shape.Batch; b++)
        {
            int used = (lengths[b] + pages.PageSize - 1) / pages.PageSize;
            for (int i = 0; i < used; i++)
            {
                ref int page = ref table[(b * pages.PagesPerSequence) + i];
                if (!renumbered.TryGetValue(page, out int local))
                {
                    renumbered[page] = local = read.Count;
                    read.Add(page);
                }

                page = local;
            }
        }

        long pageRows = (long)read.Count * pages.PageSize;
        var keys = scratch.Get<T>(LayerScratch.DequantizedKeys, pageRows * cache.KeyRow);
        var values = scratch.Get<T>(LayerScratch.DequantizedValues, pageRows * cache.ValueRow);
        byteEngine.DequantizeBytePages(pool, read.ToArray(), keys, values);
        engine.PagedAttention(shape, options, query, keys, values, pages with { BlockTable = table, HeadMajor = false }, output);
    }
}
