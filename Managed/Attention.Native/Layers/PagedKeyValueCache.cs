namespace Attention.Native.Layers;

/// <summary>
/// A key/value cache in fixed-size pages shared by many sequences, for continuous batching: sequences join
/// (<see cref="AddSequence"/>) and leave (<see cref="RemoveSequence"/>) at any step, each takes a page from the pool
/// whenever its length reaches a page boundary, and its pages return to the pool when it leaves.
/// <see cref="MultiHeadAttention{T}.ForwardPagedStep(PagedKeyValueCache{T}, ReadOnlySpan{int}, ReadOnlySpan{int}, AttentionTensor{T}, AttentionTensor{T})"/>
/// appends tokens to each of any set of sequences (one for a decoding step, a prompt's worth for its prefill) and
/// attends over each one's own positions, all in one call.
/// Created by <see cref="MultiHeadAttention{T}.CreatePagedCache"/>; the pool is stored on the layer's backend as
/// <c>[PageCount, PageSize, Hkv, D]</c> for keys and <c>[PageCount, PageSize, Hkv, Dv]</c> for values, in
/// <typeparamref name="T"/> (<see cref="PagedKeyValueLayout"/>; head-major, <c>[PageCount, Hkv, PageSize, D]</c>, on the
/// CPU backend, whose decode kernel streams a head's run of a page fastest), or, with <see cref="KeyValueCacheStorage.Int8"/>, as
/// signed bytes with a float scale per (position, KV head) in pages of their own, or, with
/// <see cref="KeyValueCacheStorage.Float8E4M3"/>, as fp8 e4m3 bytes with one float scale per KV head for the whole pool
/// (<see cref="Storage"/>).
/// </summary>
/// <remarks>A cache serves one call at a time: a call that enters while a step on it runs throws
/// <see cref="InvalidOperationException"/>.</remarks>
/// <typeparam name="T">The layer's element type.</typeparam>
public sealed class PagedKeyValueCache<T> : IDisposable
    where T : unmanaged
{
    private readonly Stack<int> freePages;
    private readonly List<List<int>?> sequencePages = [];
    private readonly List<int> lengths = [];
    private readonly Stack<int> freeIds = new();

    internal PagedKeyValueCache(
        MultiHeadAttention<T> owner, LayerEngine<T> engine, int pageSize, int pageCount, KeyValueCacheStorage storage, int heads,
        int keyRow, int valueRow, KeyValueScales? scales)
    {
        Owner = owner;
        PageSize = pageSize;
        PageCount = pageCount;
        Storage = storage;
        KeyRow = keyRow;
        ValueRow = valueRow;
        if (KeyValueCache<T>.ByteFormat(storage) is { } format)
        {
            // An 8-bit pool is laid out as an 8-bit contiguous cache of PageCount sequences of PageSize positions.
            ByteRows = ((IByteCacheEngine<T>)engine).CreateByteRows(format, pageCount, pageSize, heads, keyRow / heads, valueRow / heads);
            if (scales is not null)
            {
                ByteRows.SetScales(scales.Keys, scales.Values);
            }
        }
        else
        {
            HeadMajor = engine.HeadMajorPages;
            KeyPages = owner.Backend.Allocate<T>(checked((long)pageCount * pageSize * keyRow));
            try
            {
                ValuePages = owner.Backend.Allocate<T>(checked((long)pageCount * pageSize * valueRow));
            }
            catch
            {
                KeyPages.Dispose();
                throw;
            }
        }

        // Popped lowest first: a short run fills the pool from its start.
        freePages = new Stack<int>(Enumerable.Range(0, pageCount).Reverse());
    }

    /// <summary>Positions per page.</summary>
    public int PageSize { get; }

    /// <summary>Pages in the pool.</summary>
    public int PageCount { get; }

    /// <summary>Pages no sequence holds.</summary>
    public int FreePageCount => freePages.Count;

    /// <summary>Sequences in the cache.</summary>
    public int SequenceCount => sequencePages.Count - freeIds.Count;

    /// <summary>How the keys and values are stored.</summary>
    public KeyValueCacheStorage Storage { get; }

    /// <summary>Whether the cache was disposed.</summary>
    public bool IsDisposed { get; private set; }

    internal MultiHeadAttention<T> Owner { get; }

    internal SingleCallGuard Guard { get; } = new("PagedKeyValueCache");

    /// <summary>
    /// Whether the element pools keep each page head-major, <c>[PageCount, Hkv, PageSize, D]</c> (the CPU backend's
    /// choice, see <see cref="LayerEngine{T}.HeadMajorPages"/>), rather than <c>[PageCount, PageSize, Hkv, D]</c>.
    /// </summary>
    internal bool HeadMajor { get; }

    /// <summary>The key pool, <c>[PageCount, PageSize, Hkv, D]</c> (or head-major, <see cref="HeadMajor"/>); null for 8-bit storage.</summary>
    internal AttentionTensor<T>? KeyPages { get; }

    /// <summary>The value pool, <c>[PageCount, PageSize, Hkv, Dv]</c> (or head-major, <see cref="HeadMajor"/>); null for 8-bit storage.</summary>
    internal AttentionTensor<T>? ValuePages { get; }

    /// <summary>The 8-bit pool and its scales; null for <see cref="KeyValueCacheStorage.Element"/>.</summary>
    internal ByteCacheRows? ByteRows { get; }

    /// <summary>Elements of one position's keys (Hkv·D).</summary>
    internal int KeyRow { get; }

    /// <summary>Elements of one position's values (Hkv·Dv).</summary>
    internal int ValueRow { get; }

    /// <summary>Starts an empty sequence; it holds no page until its first token.</summary>
    /// <returns>The sequence's id (an id of a removed sequence may be given again).</returns>
    /// <exception cref="ObjectDisposedException">The cache was disposed.</exception>
    /// <exception cref="InvalidOperationException">A step on this cache is running.</exception>
    public int AddSequence()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        using var call = Guard.Enter();
        if (freeIds.TryPop(out int id))
        {
            sequencePages[id] = [];
            lengths[id] = 0;
            return id;
        }

        sequencePages.Add([]);
        lengths.Add(0);
        return sequencePages.Count - 1;
    }

    /// <summary>Ends a sequence: its pages return to the pool.</summary>
    /// <param name="sequence">An id from <see cref="AddSequence"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="sequence"/> is not a sequence of this cache.</exception>
    /// <exception cref="ObjectDisposedException">The cache was disposed.</exception>
    /// <exception cref="InvalidOperationException">A step on this cache is running.</exception>
    public void RemoveSequence(int sequence)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        using var call = Guard.Enter();
        foreach (int page in PagesOf(sequence, nameof(sequence)))
        {
            freePages.Push(page);
        }

        sequencePages[sequence] = null;
        freeIds.Push(sequence);
    }

    /// <summary>Positions cached for <paramref name="sequence"/>.</summary>
    /// <param name="sequence">An id from <see cref="AddSequence"/>.</param>
    /// <returns>The length.</returns>
    /// <exception cref="ArgumentException"><paramref name="sequence"/> is not a sequence of this cache.</exception>
    public int LengthOf(int sequence)
    {
        PagesOf(sequence, nameof(sequence));
        return lengths[sequence];
    }

    /// <summary>Frees the pool.</summary>
    public void Dispose()
    {
        if (!IsDisposed)
        {
            IsDisposed = true;
            Owner.Backend.Synchronize();
            KeyPages?.Dispose();
            ValuePages?.Dispose();
            ByteRows?.Dispose();
        }
    }

    /// <summary>The pages of <paramref name="sequence"/>, in order.</summary>
    /// <exception cref="ArgumentException">It is not a sequence of this cache.</exception>
    internal List<int> PagesOf(int sequence, string parameter) =>
        (uint)sequence < (uint)sequencePages.Count && sequencePages[sequence] is { } pages ? pages
        : throw new ArgumentException($"{sequence} is not a sequence of this PagedKeyValueCache (AddSequence gives ids).", parameter);

    internal int Length(int sequence) => lengths[sequence];

    /// <summary>
    /// Pages the sequences need for <paramref name="tokens"/> more tokens each (one each when empty); throws before
    /// anything changes when the pool has fewer free.
    /// </summary>
    internal void ThrowIfNoRoom(ReadOnlySpan<int> sequences, ReadOnlySpan<int> tokens)
    {
        long needed = 0;
        for (int i = 0; i < sequences.Length; i++)
        {
            long length = lengths[sequences[i]];
            long grown = length + (tokens.IsEmpty ? 1 : tokens[i]);
            needed += ((grown + PageSize - 1) / PageSize) - ((length + PageSize - 1) / PageSize);
        }

        if (needed > freePages.Count)
        {
            throw new InvalidOperationException(
                $"The PagedKeyValueCache has {freePages.Count} free pages and the step needs {needed}: remove finished sequences or create it with more pages.");
        }
    }

    /// <summary>
    /// Takes the next position of <paramref name="sequence"/> (a page from the pool at a page boundary) and returns
    /// its row in the pool.
    /// </summary>
    internal long Append(int sequence)
    {
        var pages = sequencePages[sequence]!;
        int length = lengths[sequence];
        if (length % PageSize == 0)
        {
            pages.Add(freePages.Pop());
        }

        lengths[sequence] = length + 1;
        return ((long)pages[length / PageSize] * PageSize) + (length % PageSize);
    }
}
