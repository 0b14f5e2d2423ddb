using System.Runtime.InteropServices;
using Attention.Native.Cpu.Decode;
using Attention.Native.Cuda.SplitKv;

namespace Attention.Native.Perf.Compare;

/// <summary>
/// A decode case's 8-bit K and V in pages (<see cref="ByteCacheOperands.Paged"/>): what
/// <see cref="ByteCacheAttention.RunPaged{T}"/> reads, the byte pages, their scales (int8's in pages of their own, e4m3's
/// per KV head) and the block table.
/// </summary>
internal sealed class PagedByteCacheOperands(
    KeyValue8BitFormat format, byte[] keyPages, byte[] valuePages, float[] keyScales, float[] valueScales, PagedKeyValueLayout layout)
{
    public PagedKeyValueLayout Layout => layout;

    public ByteKeyValueSpans Spans => new()
    {
        Format = format,
        Key = MemoryMarshal.Cast<byte, sbyte>(keyPages),
        Value = MemoryMarshal.Cast<byte, sbyte>(valuePages),
        KeyScales = keyScales,
        ValueScales = valueScales,
    };

    /// <summary>Bytes of the block table a call reads: each sequence's row of page ids.</summary>
    public double TableBytes => (double)layout.BlockTable.Length * sizeof(int);
}
