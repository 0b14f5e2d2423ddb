namespace Attention.Native.Layers;

/// <summary>
/// What a <see cref="KeyValueCacheStorage.Int8"/> cache needs from a backend's layer engine besides the usual
/// operations: quantising new positions into it, attention that reads it as it is, and its dequantised copy for the
/// steps that attention does not take. The CPU engine implements it; on other backends the storage is rejected when
/// the cache is created.
/// </summary>
/// <typeparam name="T">The layer's element type.</typeparam>
internal interface IInt8CacheEngine<T>
    where T : unmanaged
{
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
}
