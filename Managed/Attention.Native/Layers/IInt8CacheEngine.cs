namespace Attention.Native.Layers;

/// <summary>
/// What a <see cref="KeyValueCacheStorage.Int8"/> cache, contiguous or paged, needs from a backend's layer engine
/// besides the usual operations: quantising new positions into it, attention that reads it as it is, and its
/// dequantised copy for the steps that attention does not take. Both engines implement it: the CPU decode kernel and the
/// CUDA 8-bit split-KV kernel read int8 rows, each for the calls it takes.
/// </summary>
/// <typeparam name="T">The layer's element type.</typeparam>
internal interface IInt8CacheEngine<T>
    where T : unmanaged
{
    /// <summary>An empty (zero-filled) int8 cache in this backend's memory.</summary>
    Int8CacheRows CreateInt8Rows(int batch, int capacity, int heads, int keyDim, int valueDim);

    /// <summary>
    /// Quantises <paramref name="tokens"/> new positions per sequence into <paramref name="cache"/> from position
    /// <paramref name="start"/>: keys from <paramref name="keys"/> (<c>[B, tokens, Hkv·D]</c>, rows contiguous), values
    /// from <paramref name="values"/> (<c>[B, tokens, Hkv·Dv]</c>).
    /// </summary>
    void AppendInt8(LayerOperand<T> keys, LayerOperand<T> values, int tokens, Int8CacheRows cache, int start);

    /// <summary>Whether <see cref="AttentionInt8"/> takes the call (it reads int8 rows in the decode kernel only).</summary>
    bool TakesInt8(AttentionShape shape, AttentionOptions options, bool wantsProbabilities);

    /// <summary>
    /// Attention whose K and V are the first <c>shape.KeyLength</c> positions of <paramref name="cache"/> (the options'
    /// key and value strides address its rows).
    /// </summary>
    void AttentionInt8(
        AttentionShape shape, AttentionOptions options, LayerOperand<T> query, Int8CacheRows cache, LayerOperand<T> output);

    /// <summary>
    /// The first <paramref name="length"/> positions of every sequence of <paramref name="cache"/>, dequantised and
    /// rounded to <typeparamref name="T"/>, into <paramref name="keys"/> (<c>[B, length, Hkv·D]</c>) and
    /// <paramref name="values"/> (<c>[B, length, Hkv·Dv]</c>).
    /// </summary>
    void DequantizeInt8(Int8CacheRows cache, int length, LayerOperand<T> keys, LayerOperand<T> values);

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
