namespace Attention.Native.Layers;

/// <summary>
/// The projected keys and values of the tokens a <see cref="MultiHeadAttention{T}"/> layer has seen so far, for
/// incremental (token-by-token) decoding: <see cref="MultiHeadAttention{T}.ForwardStep(KeyValueCache{T}, AttentionTensor{T}, AttentionTensor{T}, LayerMasks?, AttentionTensor{float}?, AttentionWeightsMode)"/>
/// appends each step's keys and values and attends over all of them. Created by
/// <see cref="MultiHeadAttention{T}.CreateCache"/>; stored on the layer's backend as <c>[B, Capacity, Hkv, D]</c> in
/// <typeparamref name="T"/>, or, with <see cref="KeyValueCacheStorage.Int8"/>, as signed bytes with a float scale per
/// (sequence, position, KV head), or, with <see cref="KeyValueCacheStorage.Float8E4M3"/>, as fp8 e4m3 bytes with a float
/// scale per KV head (<see cref="Storage"/>).
/// </summary>
/// <remarks>A cache serves one call at a time: <see cref="Reset"/> or a step that enters while a step on it runs throws
/// <see cref="InvalidOperationException"/>.</remarks>
/// <typeparam name="T">The layer's element type.</typeparam>
public sealed class KeyValueCache<T> : IDisposable
    where T : unmanaged
{
    private readonly LayerEngine<T> engine;
    private readonly int keyWidth;
    private readonly int valueWidth;
    private readonly int heads;

    internal KeyValueCache(
        MultiHeadAttention<T> owner, LayerEngine<T> engine, int batch, int capacity, bool growable, KeyValueCacheStorage storage,
        int heads, int keyWidth, int valueWidth, KeyValueScales? scales)
    {
        Owner = owner;
        this.engine = engine;
        this.heads = heads;
        this.keyWidth = keyWidth;
        this.valueWidth = valueWidth;
        Batch = batch;
        IsGrowable = growable;
        Storage = storage;
        if (ByteFormat(storage) is { } format)
        {
            ByteRows = ((IByteCacheEngine<T>)engine).CreateByteRows(format, batch, capacity, heads, keyWidth / heads, valueWidth / heads);
            if (scales is not null)
            {
                ByteRows.SetScales(scales.Keys, scales.Values);
            }
        }
        else
        {
            (Keys, Values) = Allocate(capacity);
        }

        Capacity = capacity;
    }

    /// <summary>Number of sequences B.</summary>
    public int Batch { get; }

    /// <summary>Positions per sequence the cache holds without growing.</summary>
    public int Capacity { get; private set; }

    /// <summary>Positions per sequence filled so far.</summary>
    public int Length { get; internal set; }

    /// <summary>Whether the cache grows (doubling, copying what it holds) instead of failing when full.</summary>
    public bool IsGrowable { get; }

    /// <summary>How the keys and values are stored.</summary>
    public KeyValueCacheStorage Storage { get; }

    /// <summary>Whether the cache was disposed.</summary>
    public bool IsDisposed { get; private set; }

    internal MultiHeadAttention<T> Owner { get; }

    /// <summary>The cache's one running call (a step, a reset).</summary>
    internal SingleCallGuard Guard { get; } = new("KeyValueCache");

    /// <summary>The keys in <typeparamref name="T"/>; null for 8-bit storage.</summary>
    internal AttentionTensor<T>? Keys { get; private set; }

    /// <summary>The values in <typeparamref name="T"/>; null for 8-bit storage.</summary>
    internal AttentionTensor<T>? Values { get; private set; }

    /// <summary>The 8-bit keys, values and scales; null for <see cref="KeyValueCacheStorage.Element"/>.</summary>
    internal ByteCacheRows? ByteRows { get; private set; }

    internal int KeyWidth => keyWidth;

    internal int ValueWidth => valueWidth;

    /// <summary>Empties the cache (a new sequence); the memory is kept.</summary>
    /// <exception cref="ObjectDisposedException">The cache was disposed.</exception>
    /// <exception cref="InvalidOperationException">A step on this cache is running.</exception>
    public void Reset()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        using var call = Guard.Enter();
        Length = 0;
    }

    /// <summary>Frees the cache's memory.</summary>
    public void Dispose()
    {
        if (!IsDisposed)
        {
            IsDisposed = true;
            engine.Synchronize();
            Keys?.Dispose();
            Values?.Dispose();
            ByteRows?.Dispose();
        }
    }

    /// <summary>Throws when <paramref name="additional"/> more positions do not fit and the cache cannot grow.</summary>
    internal void ThrowIfNoRoom(int additional)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if ((long)Length + additional > Capacity && !IsGrowable)
        {
            throw new InvalidOperationException(
                $"The KeyValueCache is full: it holds {Length} of {Capacity} positions and the step adds {additional}. Create it with a larger capacity or growable: true, or Reset it.");
        }
    }

    /// <summary>The capacity <see cref="EnsureRoom"/> leaves for <paramref name="additional"/> more positions.</summary>
    internal int CapacityFor(int additional)
    {
        int needed = checked(Length + additional);
        return needed <= Capacity ? Capacity : (int)Math.Min(int.MaxValue, Math.Max(needed, 2L * Capacity));
    }

    /// <summary>Grows (after <see cref="ThrowIfNoRoom"/>) so that <paramref name="additional"/> more positions fit.</summary>
    internal void EnsureRoom(int additional)
    {
        int capacity = CapacityFor(additional);
        if (capacity == Capacity)
        {
            return;
        }

        if (ByteRows is { } rows)
        {
            var grown = ((IByteCacheEngine<T>)engine).CreateByteRows(rows.Format, Batch, capacity, heads, rows.KeyDim, rows.ValueDim);
            rows.CopyTo(grown, Length);
            engine.Synchronize();
            rows.Dispose();
            (ByteRows, Capacity) = (grown, capacity);
            return;
        }

        var (keys, values) = Allocate(capacity);
        for (int b = 0; b < Batch; b++)
        {
            engine.Copy(new(Keys!, (long)b * Capacity * keyWidth), new(keys, (long)b * capacity * keyWidth), (long)Length * keyWidth);
            engine.Copy(new(Values!, (long)b * Capacity * valueWidth), new(values, (long)b * capacity * valueWidth), (long)Length * valueWidth);
        }

        engine.Synchronize();
        Keys!.Dispose();
        Values!.Dispose();
        (Keys, Values, Capacity) = (keys, values, capacity);
    }

    /// <summary>The 8-bit format of <paramref name="storage"/>; null for <see cref="KeyValueCacheStorage.Element"/>.</summary>
    internal static Cuda.SplitKv.KeyValue8BitFormat? ByteFormat(KeyValueCacheStorage storage) => storage switch
    {
        KeyValueCacheStorage.Int8 => Cuda.SplitKv.KeyValue8BitFormat.Int8,
        KeyValueCacheStorage.Float8E4M3 => Cuda.SplitKv.KeyValue8BitFormat.Float8E4M3,
        _ => null,
    };

    private (AttentionTensor<T> Keys, AttentionTensor<T> Values) Allocate(int capacity)
    {
        var backend = Owner.Backend;
        var keys = backend.Allocate<T>((long)Batch * capacity * keyWidth);
        try
        {
            return (keys, backend.Allocate<T>((long)Batch * capacity * valueWidth));
        }
        catch
        {
            keys.Dispose();
            throw;
        }
    }
}
