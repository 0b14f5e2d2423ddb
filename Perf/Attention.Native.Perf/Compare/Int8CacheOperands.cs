using Attention.Native.Cpu.Decode;

namespace Attention.Native.Perf.Compare;

/// <summary>
/// A case's K and V quantised to int8 as the layers' int8 key/value cache stores them (<see cref="Int8Quantizer"/>:
/// one scale per (batch, KV head, key), in the BHSD order of the catalogue's operands), and the values they stand for,
/// which the float64 reference takes.
/// </summary>
internal sealed unsafe class Int8CacheOperands
{
    private readonly sbyte[] key;
    private readonly sbyte[] value;
    private readonly float[] keyScales;
    private readonly float[] valueScales;
    private readonly TensorStrides scaleStrides;

    private Int8CacheOperands(AttentionShape shape, float[] key, float[] value)
    {
        int rows = shape.Batch * shape.KeyValueHeads * shape.KeyLength;
        scaleStrides = new((long)shape.KeyValueHeads * shape.KeyLength, shape.KeyLength, 1);
        (this.key, keyScales, DequantizedKey) = Quantize(key, rows, shape.HeadDim);
        (this.value, valueScales, DequantizedValue) = Quantize(value, rows, shape.ValueHeadDim);
    }

    public float[] DequantizedKey { get; }

    public float[] DequantizedValue { get; }

    public ByteKeyValueSpans Spans => new()
    {
        Key = key,
        Value = value,
        KeyScales = keyScales,
        ValueScales = valueScales,
        ScaleStrides = scaleStrides,
    };

    /// <summary>
    /// The same int8 rows in a paged cache: the pages and block table of <see cref="PagedOperands{T}"/> (shuffled with
    /// <paramref name="seed"/>, head-major where <paramref name="headMajor"/>), the scales in pages of their own,
    /// <c>[numPages, PageSize, Hkv]</c> (head-major: <c>[numPages, Hkv, PageSize]</c>).
    /// </summary>
    public PagedInt8CacheOperands Paged(AttentionShape shape, int pageSize, int seed, bool headMajor)
    {
        var values = PagedOperands<sbyte>.Create(shape, key, value, pageSize, seed, headMajor);
        return new(
            values.KeyPages, values.ValuePages, PagedOperands<float>.Scatter(shape, keyScales, 1, values.Layout),
            PagedOperands<float>.Scatter(shape, valueScales, 1, values.Layout), values.Layout);
    }

    /// <summary>K and V of <paramref name="shape"/> (BHSD, contiguous) quantised row by row.</summary>
    public static Int8CacheOperands Create(AttentionShape shape, float[] key, float[] value) => new(shape, key, value);

    private static (sbyte[] Stored, float[] Scales, float[] Dequantized) Quantize(float[] source, int rows, int dim)
    {
        var stored = new sbyte[source.Length];
        var scales = new float[rows];
        var dequantized = new float[source.Length];
        fixed (float* from = source)
        fixed (sbyte* to = stored)
        {
            for (int r = 0; r < rows; r++)
            {
                long row = (long)r * dim;
                scales[r] = Int8Quantizer.QuantizeRow(from + row, to + row, dim);
                for (int x = 0; x < dim; x++)
                {
                    dequantized[row + x] = Int8Quantizer.Dequantize(stored[row + x], scales[r]);
                }
            }
        }

        return (stored, scales, dequantized);
    }
}
