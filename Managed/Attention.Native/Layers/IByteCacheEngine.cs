using Attention.Native.Validation;
using Attention.Native.Cuda.SplitKv;

namespace Attention.Native.Layers;

/// <summary>
/// What an 8-bit cache (<see cref="KeyValueCacheStorage.Int8"/>, <see cref="KeyValueCacheStorage.Float8E4M3"/>),
/// contiguous or paged, needs from a backend's layer engine besides the usual operations: quantising new positions into
/// it, attention that reads it as it is, and its dequantised copy for the steps that attention does not take. Both
/// engines implement it: the CPU decode kernel and the CUDA 8-bit split-KV kernel read 8-bit rows, each for the calls
/// it takes. An e4m3 cache without its per-head scales takes them from the first append it quantises
/// (<see cref="ByteCacheRows.HasScales"/>).
/// </summary>
/// <typeparam name="T">The layer's element type.</typeparam>
internal interface IByteCacheEngine<T>
    where T : unmanaged
{
    /// <summary>An empty (zero-filled) 8-bit cache of <paramref name="format"/> in this backend's memory.</summary>
    ByteCacheRows CreateByteRows(KeyValue8BitFormat format, int batch, int capacity, int heads, int keyDim, int valueDim);

    /// <summary>
    /// Quantises <paramref name="tokens"/> new positions per sequence into <paramref name="cache"/> from position
    /// <paramref name="start"/>: keys from <paramref name="keys"/> (<c>[B, tokens, Hkv·D]</c>, rows contiguous), values
    /// from <paramref name="values"/> (<c>[B, tokens, Hkv·Dv]</c>).
    /// </summary>
    void AppendBytes(LayerOperand<T> keys, LayerOperand<T> values, int tokens, ByteCacheRows cache, int start);

    /// <summary>
    /// The call validated, where <see cref="AttentionBytes"/> takes it (the CPU decode kernel, the CUDA 8-bit split-KV
    /// kernels); null where it does not.
    /// </summary>
    AttentionProblem? TakesBytes(AttentionShape shape, AttentionOptions options, bool wantsProbabilities);

    /// <summary>
    /// Attention whose K and V are the first <c>KeyLength</c> positions of <paramref name="cache"/>, on a problem from
    /// <see cref="TakesBytes"/> (validated once; the options' key and value strides address the cache's rows).
    /// </summary>
    void AttentionBytes(AttentionProblem problem, LayerOperand<T> query, ByteCacheRows cache, LayerOperand<T> output);

    /// <summary>
    /// The first <paramref name="length"/> positions of every sequence of <paramref name="cache"/>, dequantised and
    /// rounded to <typeparamref name="T"/>, into <paramref name="keys"/> (<c>[B, length, Hkv·D]</c>) and
    /// <paramref name="values"/> (<c>[B, length, Hkv·Dv]</c>).
    /// </summary>
    void DequantizeBytes(ByteCacheRows cache, int length, LayerOperand<T> keys, LayerOperand<T> values);

    /// <summary>
    /// Quantises new positions into an 8-bit pool (<c>[PageCount, PageSize, Hkv, D]</c>, as an
    /// <see cref="ByteCacheRows"/> of <c>PageCount</c> sequences of <c>PageSize</c> positions): row i of
    /// <paramref name="keys"/> and <paramref name="values"/> (rows <paramref name="rowStride"/> elements apart) into pool
    /// position <c>positions[i]</c> (page·PageSize + slot), its scales as <see cref="AppendBytes"/>.
    /// </summary>
    void AppendByteRows(LayerOperand<T> keys, LayerOperand<T> values, int rowStride, ReadOnlySpan<long> positions, ByteCacheRows pool);

    /// <summary>
    /// Attention on an 8-bit pool as it is, where the decode kernel takes the call (few queries); false, with nothing
    /// written, where it does not.
    /// </summary>
    bool TryPagedAttentionBytes(
        AttentionShape shape, AttentionOptions options, LayerOperand<T> query, ByteCacheRows pool, PagedKeyValueLayout pages,
        LayerOperand<T> output);

    /// <summary>
    /// The pool's pages <paramref name="pages"/>, dequantised and rounded to <typeparamref name="T"/>, as consecutive
    /// pages of <paramref name="keys"/> (<c>[pages.Length, PageSize, Hkv·D]</c>) and <paramref name="values"/>.
    /// </summary>
    void DequantizeBytePages(ByteCacheRows pool, ReadOnlySpan<int> pages, LayerOperand<T> keys, LayerOperand<T> values);
}
