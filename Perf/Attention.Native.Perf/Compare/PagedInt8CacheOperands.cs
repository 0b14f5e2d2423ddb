using Attention.Native.Cpu.Decode;

namespace Attention.Native.Perf.Compare;

/// <summary>
/// A decode case's int8 K and V in pages (<see cref="Int8CacheOperands.Paged"/>): what
/// <see cref="ByteCacheAttention.RunPaged{T}"/> reads, the int8 pages, their scales' pages and the block table.
/// </summary>
internal sealed class PagedInt8CacheOperands(
    sbyte[] keyPages, sbyte[] valuePages, float[] keyScales, float[] valueScales, PagedKeyValueLayout layout)
{
    public PagedKeyValueLayout Layout => layout;

    public ByteKeyValueSpans Spans => new()
    {
        Key = keyPages,
        Value = valuePages,
        KeyScales = keyScales,
        ValueScales = valueScales,
    };

    /// <summary>Bytes of the block table a call reads: each sequence's row of page ids.</summary>
    public double TableBytes => (double)layout.BlockTable.Length * sizeof(int);
}
