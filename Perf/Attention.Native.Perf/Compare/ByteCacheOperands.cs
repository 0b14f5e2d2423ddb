using System.Runtime.InteropServices;
using Attention.Native.Cpu.Decode;
using Attention.Native.Cuda.SplitKv;

namespace Attention.Native.Perf.Compare;

/// <summary>
/// A case's K and V quantised to 8 bits as the layers' 8-bit key/value caches store them, in the BHSD order of the
/// catalogue's operands, and the values they stand for, which the float64 reference takes: int8 with one scale per
/// (batch, KV head, key) (<see cref="Int8Quantizer"/>, <c>KeyValueCacheStorage.Int8</c>), or fp8 e4m3 with one scale per
/// KV head, <c>max|x| / 448</c> over the head's rows (<see cref="Float8E4M3Quantizer"/>,
/// <c>KeyValueCacheStorage.Float8E4M3</c> with calibrated scales).
/// </summary>
internal sealed unsafe class ByteCacheOperands
{
    private readonly byte[] key;
    private readonly byte[] value;
    private readonly float[] keyScales;
    private readonly float[] valueScales;
    private readonly TensorStrides scaleStrides;

    private ByteCacheOperands(AttentionShape shape, KeyValue8BitFormat format, float[] key, float[] value)
    {
        Format = format;
        int rows = shape.Batch * shape.KeyValueHeads * shape.KeyLength;
        scaleStrides = format == KeyValue8BitFormat.Int8
            ? new((long)shape.KeyValueHeads * shape.KeyLength, shape.KeyLength, 1)
            : new(0, 1, 0);
        (this.key, keyScales, DequantizedKey) = Quantize(shape, format, key, rows, shape.HeadDim);
        (this.value, valueScales, DequantizedValue) = Quantize(shape, format, value, rows, shape.ValueHeadDim);
    }

    public KeyValue8BitFormat Format { get; }

    public float[] DequantizedKey { get; }

    public float[] DequantizedValue { get; }

    public ByteKeyValueSpans Spans => new()
    {
        Format = Format,
        Key = MemoryMarshal.Cast<byte, sbyte>(key),
        Value = MemoryMarshal.Cast<byte, sbyte>(value),
        KeyScales = keyScales,
        ValueScales = valueScales,
        ScaleStrides = scaleStrides,
    };

    /// <summary>
    /// The same rows in a paged cache: the pages and block table of <see cref="PagedOperands{T}"/> (shuffled with
    /// <paramref name="seed"/>, head-major where <paramref name="headMajor"/>); int8's scales in pages of their own,
    /// <c>[numPages, PageSize, Hkv]</c> (head-major: <c>[numPages, Hkv, PageSize]</c>), e4m3's per KV head as they are.
    /// </summary>
    public PagedByteCacheOperands Paged(AttentionShape shape, int pageSize, int seed, bool headMajor)
    {
        var values = PagedOperands<byte>.Create(shape, key, value, pageSize, seed, headMajor);
        return Format == KeyValue8BitFormat.Int8
            ? new(Format, values.KeyPages, values.ValuePages, PagedOperands<float>.Scatter(shape, keyScales, 1, values.Layout),
                PagedOperands<float>.Scatter(shape, valueScales, 1, values.Layout), values.Layout)
            : new(Format, values.KeyPages, values.ValuePages, keyScales, valueScales, values.Layout);
    }

    /// <summary>K and V of <paramref name="shape"/> (BHSD, contiguous) quantised in <paramref name="format"/>.</summary>
    public static ByteCacheOperands Create(AttentionShape shape, KeyValue8BitFormat format, float[] key, float[] value) =>
        new(shape, format, key, value);

    private static (byte[] Stored, float[] Scales, float[] Dequantized) Quantize(
        AttentionShape shape, KeyValue8BitFormat format, float[] source, int rows, int dim)
    {
        var stored = new byte[source.Length];
        var dequantized = new float[source.Length];
        fixed (float* from = source)
        fixed (byte* to = stored)
        {
            if (format == KeyValue8BitFormat.Int8)
            {
                var scales = new float[rows];
                for (int r = 0; r < rows; r++)
                {
                    long row = (long)r * dim;
                    scales[r] = Int8Quantizer.QuantizeRow(from + row, (sbyte*)to + row, dim);
                    for (int x = 0; x < dim; x++)
                    {
                        dequantized[row + x] = Int8Quantizer.Dequantize((sbyte)stored[row + x], scales[r]);
                    }
                }

                return (stored, scales, dequantized);
            }

            // One scale per KV head over every batch's rows of it, as a calibrated KeyValueScales gives.
            int heads = shape.KeyValueHeads;
            long headRows = (long)shape.KeyLength * dim;
            var headScales = new float[heads];
            for (int h = 0; h < heads; h++)
            {
                float max = 0;
                for (int b = 0; b < shape.Batch; b++)
                {
                    max = Math.Max(max, Float8E4M3Quantizer.FiniteMax(from + ((((long)b * heads) + h) * headRows), (int)headRows));
                }

                headScales[h] = Float8E4M3Quantizer.ScaleOf(max);
                for (int b = 0; b < shape.Batch; b++)
                {
                    long at = (((long)b * heads) + h) * headRows;
                    Float8E4M3Quantizer.QuantizeRow(from + at, to + at, (int)headRows, headScales[h]);
                    for (long x = at; x < at + headRows; x++)
                    {
                        dequantized[x] = Float8E4M3Quantizer.Decode(stored[x]) * headScales[h];
                    }
                }
            }

            return (stored, headScales, dequantized);
        }
    }
}
