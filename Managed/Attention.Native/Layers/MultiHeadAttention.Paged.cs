using Attention.Native.Cpu;

namespace Attention.Native.Layers;

/// <summary>Continuous batching: one decoding step for any set of sequences of a paged key/value cache.</summary>
public sealed partial class MultiHeadAttention<T>
{
    /// <summary>Creates an empty paged key/value cache for <see cref="ForwardPagedStep"/>.</summary>
    /// <param name="pageSize">Positions per page (16 to 256 are usual).</param>
    /// <param name="pageCount">Pages in the pool: all sequences together hold at most <c>pageSize·pageCount</c> positions.</param>
    /// <returns>The cache, on this layer's backend; dispose it.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pageSize"/> or <paramref name="pageCount"/> is below 1,
    /// or the pool would pass a buffer's limit.</exception>
    /// <exception cref="NotSupportedException">The layer's backend is not the CPU backend (the CPU kernels read paged
    /// K/V).</exception>
    /// <exception cref="ObjectDisposedException">The layer was disposed.</exception>
    public PagedKeyValueCache<T> CreatePagedCache(int pageSize, int pageCount)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(pageCount, 1);
        if (Backend is not CpuBackend)
        {
            throw new NotSupportedException(
                $"A PagedKeyValueCache is not supported on the {Backend.Kind} backend (the CPU backend reads paged K/V); use CreateCache.");
        }

        return new PagedKeyValueCache<T>(this, pageSize, pageCount, dims.KeyRows, dims.ValueRows);
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
    /// <exception cref="InvalidOperationException">The pool has fewer free pages than the step needs (nothing is
    /// written then), or another call is running on this layer or this cache.</exception>
    /// <exception cref="ObjectDisposedException">The layer, cache or a tensor was disposed.</exception>
    public void ForwardPagedStep(
        PagedKeyValueCache<T> cache, ReadOnlySpan<int> sequences, AttentionTensor<T> query, AttentionTensor<T> output)
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
        int longest = 1;
        foreach (int s in sequences)
        {
            cache.PagesOf(s, nameof(sequences));
            if (!seen.Add(s))
            {
                throw new ArgumentException($"sequences names sequence {s} twice; a step takes one token per sequence.", nameof(sequences));
            }

            longest = Math.Max(longest, cache.Length(s) + 1);
        }

        int pagesPerSequence = (longest + cache.PageSize - 1) / cache.PageSize;
        if (SequenceLength(query, n, d.ModelDim, nameof(query)) != 1)
        {
            throw new ArgumentException($"query must hold one token per sequence: [n={n}, E={d.ModelDim}].", nameof(query));
        }

        RequireOutput(output, n, 1, query);
        cache.ThrowIfNoRoom(sequences);

        // Q, K and V of the new tokens in one product with the packed projection, then each token's K and V row into
        // its sequence's next slot of the pool.
        var qkv = scratch.Get<T>(LayerScratch.Projections, (long)n * d.PackedRows);
        engine.Linear(query, d.ModelDim, n, packedProjection!, InBias(0), qkv, d.PackedRows);
        var table = new int[n * pagesPerSequence];
        var lengths = new int[n];
        for (int i = 0; i < n; i++)
        {
            int s = sequences[i];
            long row = cache.Append(s);
            engine.Copy(new(qkv, ((long)i * d.PackedRows) + d.QueryRows), new(cache.KeyPages, row * d.KeyRows), d.KeyRows);
            engine.Copy(new(qkv, ((long)i * d.PackedRows) + d.QueryRows + d.KeyRows), new(cache.ValuePages, row * d.ValueRows), d.ValueRows);
            cache.PagesOf(s, nameof(sequences)).CopyTo(table, i * pagesPerSequence);
            lengths[i] = cache.Length(s);
        }

        var pages = new PagedKeyValueLayout(cache.PageSize, pagesPerSequence, table, lengths);
        var shape = new AttentionShape(n, d.Heads, d.KeyValueHeads, 1, longest, d.KeyDim, d.ValueDim);
        var options = new AttentionOptions { Scale = d.Scale, QueryStrides = Rows(1, d.PackedRows, d.KeyDim) };
        AttendAndProject(shape, options, output, null, AttentionWeightsMode.AveragedOverHeads,
            (contextOptions, context, _) => Backend.PagedScaledDotProductAttention(
                shape, qkv, cache.KeyPages, cache.ValuePages, pages, context.Tensor, contextOptions));
    }
}
