namespace Attention.Native.Layers;

/// <summary>Incremental decoding: a key/value cache and the step that appends to it and attends over it.</summary>
public sealed partial class MultiHeadAttention<T>
{
    /// <summary>Creates an empty key/value cache for <see cref="ForwardStep(KeyValueCache{T}, AttentionTensor{T}, AttentionTensor{T}, LayerMasks?, AttentionTensor{float}?, AttentionWeightsMode)"/>.</summary>
    /// <param name="batch">Number of sequences B.</param>
    /// <param name="capacity">Positions per sequence it holds.</param>
    /// <param name="growable">Whether it grows when full (else a step that does not fit throws).</param>
    /// <param name="storage">How it stores keys and values: in <typeparamref name="T"/>, or as int8 with a scale per
    /// (sequence, position, KV head) (<see cref="KeyValueCacheStorage.Int8"/>: a quarter of float's bytes), or as fp8 e4m3
    /// with a scale per KV head (<see cref="KeyValueCacheStorage.Float8E4M3"/>).</param>
    /// <param name="scales">The per-KV-head scales of a <see cref="KeyValueCacheStorage.Float8E4M3"/> cache; null to take
    /// them from its first append (<c>max|x| / 448</c> per head).</param>
    /// <returns>The cache, on this layer's backend; dispose it.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> or <paramref name="capacity"/> is below 1,
    /// <paramref name="storage"/> is not a defined <see cref="KeyValueCacheStorage"/>, or the cache would pass a CPU
    /// buffer's limit of <see cref="int.MaxValue"/> elements.</exception>
    /// <exception cref="ArgumentException"><paramref name="scales"/> is given for another storage than
    /// <see cref="KeyValueCacheStorage.Float8E4M3"/>, or does not hold one finite scale above 0 per KV head.</exception>
    /// <exception cref="ObjectDisposedException">The layer was disposed.</exception>
    public KeyValueCache<T> CreateCache(
        int batch, int capacity, bool growable = false, KeyValueCacheStorage storage = KeyValueCacheStorage.Element,
        KeyValueScales? scales = null)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        if (!Enum.IsDefined(storage))
        {
            throw new ArgumentOutOfRangeException(nameof(storage), storage, "storage is not a defined KeyValueCacheStorage.");
        }

        RequireScalesFit(storage, scales);

        return new KeyValueCache<T>(
            this, engine, batch, capacity, growable, storage, dims.KeyValueHeads, dims.KeyRows, dims.ValueRows, scales);
    }

    /// <summary>
    /// One decoding step of self-attention: projects the new tokens' queries, keys and values, appends the keys and
    /// values to <paramref name="cache"/>, and attends with bottom-right causal alignment over everything cached
    /// (new token <c>i</c> sees cached positions up to its own). Equal to a full causal forward over the whole
    /// sequence, restricted to the new rows.
    /// </summary>
    /// <param name="cache">The cache of this layer (from <see cref="CreateCache"/>).</param>
    /// <param name="query">The new tokens, <c>[B, n, E]</c> (n = 1 for token-by-token decoding).</param>
    /// <param name="output">The result for the new tokens, <c>[B, n, E]</c>.</param>
    /// <param name="masks">Extra masks over the cached positions (<c>Lk</c> = cache length after the append); its
    /// <see cref="LayerMasks.Causal"/> is replaced by <see cref="CausalMask.BottomRight"/>. Null for none.</param>
    /// <param name="weights">Optional attention weights, <c>[B, n, Lk]</c> averaged or <c>[B, H, n, Lk]</c> per head.</param>
    /// <param name="weightsMode">Whether <paramref name="weights"/> is averaged over heads or per head.</param>
    /// <exception cref="ArgumentNullException">A required argument is null.</exception>
    /// <exception cref="ArgumentException">The cache belongs to another layer, a tensor's length does not fit the cache's
    /// batch and E, a mask's shape is wrong, or the layer's kdim/vdim differ from E (the message names the parameter).
    /// Nothing is written then, and the cache is as it was.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A value of <paramref name="masks"/> is out of range (a key length
    /// above the cache's length after the append), or a head dim is above the backend's limit. Nothing is written then,
    /// and the cache is as it was.</exception>
    /// <exception cref="InvalidOperationException">The cache is full and not growable (nothing is written then), or
    /// another call is running on this layer or this cache (each serves one call at a time).</exception>
    /// <exception cref="ObjectDisposedException">The layer, cache or a tensor was disposed.</exception>
    public void ForwardStep(
        KeyValueCache<T> cache, AttentionTensor<T> query, AttentionTensor<T> output, LayerMasks? masks = null,
        AttentionTensor<float>? weights = null, AttentionWeightsMode weightsMode = AttentionWeightsMode.AveragedOverHeads)
    {
        ThrowIfDisposed();
        using var call = guard.Enter();
        ArgumentNullException.ThrowIfNull(cache);
        RequireStepOn(cache.Owner);
        using var cacheCall = cache.Guard.Enter();
        var d = dims;
        int batch = cache.Batch;
        int n = SequenceLength(query, batch, d.ModelDim, nameof(query));
        RequireOutput(output, batch, n, query);
        cache.ThrowIfNoRoom(n);
        int start = cache.Length, lk = start + n;
        var options = LayerMaskResolver.Resolve(masks, batch, d.Heads, n, lk, d.Scale) with { Causal = CausalMask.BottomRight };
        RequireWeights(weights, weightsMode, batch, n, lk, output, query);
        int capacity = cache.CapacityFor(n);
        var shape = new AttentionShape(batch, d.Heads, d.KeyValueHeads, n, lk, d.KeyDim, d.ValueDim);
        options = options with
        {
            QueryStrides = Rows(n, d.QueryRows, d.KeyDim),
            KeyStrides = Rows(capacity, d.KeyRows, d.KeyDim),
            ValueStrides = Rows(capacity, d.ValueRows, d.ValueDim),
        };

        // Whatever the attention would reject, rejected before the cache grows or takes the new rows.
        engine.CheckAttention(shape, options, wantsProbabilities: weights is not null);

        cache.EnsureRoom(n);
        var q = scratch.Get<T>(LayerScratch.Projections, (long)batch * n * d.QueryRows);
        engine.Linear(query, d.ModelDim, batch * n, queryProjection, InBias(0), q, d.QueryRows);
        if (cache.ByteRows is { } rows)
        {
            StepBytes(rows, query, q, shape, options, start, output, weights, weightsMode);
            cache.Length = lk;
            return;
        }

        // Each sequence's new keys and values go straight into its rows of the cache (sequence b's start at row
        // b·capacity + start): one batched projection each, no copies.
        ProjectKeysValues(query, n, batch, new(cache.Keys!, (long)start * d.KeyRows), new(cache.Values!, (long)start * d.ValueRows), capacity);
        AttendAndProject(shape, options, q, cache.Keys!, cache.Values!, output, weights, weightsMode);
        cache.Length = lk;
    }

    /// <summary>
    /// The new tokens' keys and values into rows of <paramref name="keys"/> and <paramref name="values"/>, sequence b's
    /// from row b·<paramref name="rowsPerSequence"/>: one batched projection each.
    /// </summary>
    private void ProjectKeysValues(
        AttentionTensor<T> query, int n, int batch, LayerOperand<T> keys, LayerOperand<T> values, int rowsPerSequence)
    {
        var d = dims;
        long queryStride = (long)n * d.ModelDim;
        engine.LinearBatched(query, d.ModelDim, queryStride, n, batch, d.ModelDim, new(inWeight, d.KeyWeightOffset),
            InBias(d.QueryRows), d.KeyRows, keys, d.KeyRows, (long)rowsPerSequence * d.KeyRows);
        engine.LinearBatched(query, d.ModelDim, queryStride, n, batch, d.ModelDim, new(inWeight, d.ValueWeightOffset),
            InBias(d.QueryRows + d.KeyRows), d.ValueRows, values, d.ValueRows, (long)rowsPerSequence * d.ValueRows);
    }

    /// <summary>
    /// A step on an 8-bit cache (grown to fit): the new keys and values projected into scratch and quantised into the
    /// cache, then attention on the 8-bit rows where the decode kernel takes the step, else on the cache dequantised
    /// into <typeparamref name="T"/>.
    /// </summary>
    private void StepBytes(
        ByteCacheRows rows, AttentionTensor<T> query, AttentionTensor<T> q, AttentionShape shape, AttentionOptions options,
        int start, AttentionTensor<T> output, AttentionTensor<float>? weights, AttentionWeightsMode weightsMode)
    {
        var d = dims;
        var byteEngine = (IByteCacheEngine<T>)engine;
        int batch = shape.Batch, n = shape.QueryLength, lk = shape.KeyLength;
        var fresh = scratch.Get<T>(LayerScratch.Spare, (long)batch * n * (d.KeyRows + d.ValueRows));
        var freshValues = new LayerOperand<T>(fresh, (long)batch * n * d.KeyRows);
        ProjectKeysValues(query, n, batch, fresh, freshValues, n);
        byteEngine.AppendBytes(fresh, freshValues, n, rows, start);
        if (byteEngine.TakesBytes(shape, ContextOptions(shape, options), weights is not null) is { } problem)
        {
            AttendAndProject(shape, options, output, weights, weightsMode, (_, context, _) => byteEngine.AttentionBytes(problem, q, rows, context));
            return;
        }

        var dequantized = scratch.Get<T>(LayerScratch.Spare, (long)batch * lk * (d.KeyRows + d.ValueRows));
        var values = new LayerOperand<T>(dequantized, (long)batch * lk * d.KeyRows);
        byteEngine.DequantizeBytes(rows, lk, dequantized, values);
        options = options with { KeyStrides = Rows(lk, d.KeyRows, d.KeyDim), ValueStrides = Rows(lk, d.ValueRows, d.ValueDim) };
        AttendAndProject(shape, options, q, dequantized, values, output, weights, weightsMode);
    }

    /// <summary>Throws where <paramref name="scales"/> are given and do not fit <paramref name="storage"/> and this layer.</summary>
    private void RequireScalesFit(KeyValueCacheStorage storage, KeyValueScales? scales)
    {
        if (scales is null)
        {
            return;
        }

        if (storage != KeyValueCacheStorage.Float8E4M3)
        {
            throw new ArgumentException($"scales apply to KeyValueCacheStorage.Float8E4M3 only; storage is {storage}.", nameof(scales));
        }

        scales.Validate(dims.KeyValueHeads, nameof(scales));
    }

    /// <summary>
    /// Rejects a decoding step on a cache of another layer (<paramref name="cacheOwner"/>), or on a layer whose keys
    /// and values cannot be projected from the query (kdim or vdim ≠ E).
    /// </summary>
    private void RequireStepOn(MultiHeadAttention<T> cacheOwner)
    {
        if (!ReferenceEquals(cacheOwner, this))
        {
            throw new ArgumentException("cache was created by another layer.", "cache");
        }

        var d = dims;
        if (!d.CanPack)
        {
            throw new ArgumentException(
                $"A decoding step projects keys and values from the query, but this layer's kdim ({d.KeyInputDim}) or vdim ({d.ValueInputDim}) differs from E ({d.ModelDim}).",
                "query");
        }
    }
}
