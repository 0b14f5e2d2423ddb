namespace Attention.Native.Layers;

/// <summary>
/// What a <see cref="PagedKeyValueCache{T}"/> needs from a backend's layer engine: paged attention on views of the
/// layer's buffers, and, for <see cref="KeyValueCacheStorage.Int8"/> pools, quantising new positions into pages,
/// attention that reads the int8 pages as they are, and a dequantised copy of pages for the calls that attention does
/// not take. The CPU engine implements it; on other backends the cache is rejected when it is created.
/// </summary>
/// <typeparam name="T">The layer's element type.</typeparam>
internal interface IPagedCacheEngine<T>
    where T : unmanaged
{
    /// <summary>Attention whose K and V are read from <paramref name="keyPages"/> and <paramref name="valuePages"/> through <paramref name="pages"/>.</summary>
    void PagedAttention(
        AttentionShape shape, AttentionOptions options, LayerOperand<T> query, AttentionTensor<T> keyPages,
        AttentionTensor<T> valuePages, PagedKeyValueLayout pages, LayerOperand<T> output);

    /// <summary>
    /// Quantises new positions into an int8 pool (<c>[PageCount, PageSize, Hkv, D]</c>, as an
    /// <see cref="Int8CacheRows"/> of <c>PageCount</c> sequences of <c>PageSize</c> positions): row i of
    /// <paramref name="keys"/> and <paramref name="values"/> (rows <paramref name="rowStride"/> elements apart) into pool
    /// position <c>positions[i]</c> (page·PageSize + slot), a scale per (position, KV head).
    /// </summary>
    void AppendInt8Rows(LayerOperand<T> keys, LayerOperand<T> values, int rowStride, ReadOnlySpan<long> positions, Int8CacheRows pool);

    /// <summary>
    /// Attention on an int8 pool as it is, where the decode kernel takes the call (few queries); false, with nothing
    /// written, where it does not.
    /// </summary>
    bool TryPagedAttentionInt8(
        AttentionShape shape, AttentionOptions options, LayerOperand<T> query, Int8CacheRows pool, PagedKeyValueLayout pages,
        LayerOperand<T> output);

    /// <summary>
    /// The pool's pages <paramref name="pages"/>, dequantised and rounded to <typeparamref name="T"/>, as consecutive
    /// pages of <paramref name="keys"/> (<c>[pages.Length, PageSize, Hkv·D]</c>) and <paramref name="values"/>.
    /// </summary>
    void DequantizeInt8Pages(Int8CacheRows pool, ReadOnlySpan<int> pages, LayerOperand<T> keys, LayerOperand<T> values);
}
