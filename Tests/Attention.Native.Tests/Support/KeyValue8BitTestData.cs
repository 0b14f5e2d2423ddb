using Attention.Native.Cuda.SplitKv;

namespace Attention.Native.Tests.Support;

/// <summary>
/// K or V of <c>[B, Hkv, L, dim]</c> at some strides, quantised to an 8-bit format: int8 with one scale per
/// (batch, KV head, key) (<see cref="Int8CacheTestData"/>), or fp8 e4m3 with one scale per (batch, KV head),
/// s = max|x| / 448 over the head's rows (<see cref="Float8E4M3"/>). The stored bytes, the scales, and the values they
/// stand for, which the float64 reference takes.
/// </summary>
public sealed class KeyValue8BitTestData
{
    private KeyValue8BitTestData(byte[] stored, float[] scales, float[] dequantized, float[] original, float[] errors)
    {
        Stored = stored;
        Scales = scales;
        Dequantized = dequantized;
        Original = original;
        Errors = errors;
    }

    public byte[] Stored { get; }

    public float[] Scales { get; }

    public float[] Dequantized { get; }

    public float[] Original { get; }

    /// <summary>Largest |original − dequantised| of each (batch, KV head): <c>[B · Hkv]</c>.</summary>
    public float[] Errors { get; }

    /// <summary>
    /// Quantises the rows of <paramref name="original"/>; int8's scales lie at <paramref name="scaleStrides"/>, e4m3's
    /// at its batch and head strides.
    /// </summary>
    internal static KeyValue8BitTestData Quantize(
        KeyValue8BitFormat format, float[] original, AttentionShape shape, int dim, TensorStrides strides, TensorStrides scaleStrides)
    {
        byte[] stored;
        float[] scales, dequantized;
        if (format == KeyValue8BitFormat.Int8)
        {
            var int8 = Int8CacheTestData.Quantize(original, shape, dim, strides, scaleStrides);
            stored = Array.ConvertAll(int8.Stored, q => unchecked((byte)q));
            scales = int8.Scales;
            dequantized = int8.Dequantized;
        }
        else
        {
            stored = new byte[original.Length];
            dequantized = new float[original.Length];
            scales = new float[((shape.Batch - 1) * scaleStrides.Batch) + ((shape.KeyValueHeads - 1) * scaleStrides.Head) + 1];
            Array.Fill(scales, float.NaN);
            for (int b = 0; b < shape.Batch; b++)
            {
                for (int h = 0; h < shape.KeyValueHeads; h++)
                {
                    float max = 0;
                    ForEachElement(shape, dim, strides, b, h, at => max = MathF.Max(max, MathF.Abs(original[at])));
                    float scale = max / Float8E4M3.Max;
                    scales[(b * scaleStrides.Batch) + (h * scaleStrides.Head)] = scale;
                    ForEachElement(shape, dim, strides, b, h, at =>
                    {
                        stored[at] = scale == 0 ? (byte)0 : Float8E4M3.Encode(original[at] / scale);
                        dequantized[at] = Float8E4M3.Decode(stored[at]) * scale;
                    });
                }
            }
        }

        var errors = new float[shape.Batch * shape.KeyValueHeads];
        for (int b = 0; b < shape.Batch; b++)
        {
            for (int h = 0; h < shape.KeyValueHeads; h++)
            {
                int head = (b * shape.KeyValueHeads) + h;
                ForEachElement(shape, dim, strides, b, h,
                    at => errors[head] = MathF.Max(errors[head], MathF.Abs(original[at] - dequantized[at])));
            }
        }

        return new KeyValue8BitTestData(stored, scales, dequantized, original, errors);
    }

    /// <summary>Largest |element| of any original row of (batch, KV head).</summary>
    public float MaxMagnitude(AttentionShape shape, int dim, TensorStrides strides, int batch, int head)
    {
        float max = 0;
        ForEachElement(shape, dim, strides, batch, head, at => max = MathF.Max(max, MathF.Abs(Original[at])));
        return max;
    }

    /// <summary>
    /// <paramref name="data"/> (<c>[B, Hkv, L, dim]</c> at <paramref name="strides"/>) with rows of amplitudes over two
    /// orders of magnitude and each (batch, KV head) its own power of two, so that a scale applied to the wrong key or
    /// head shows.
    /// </summary>
    public static float[] Spread(Random random, float[] data, AttentionShape shape, int dim, TensorStrides strides) =>
        ScaleHeads(ScaleRows(random, data, dim), shape, dim, strides);

    /// <summary><paramref name="data"/> (<c>[B, Hkv, L, dim]</c> at <paramref name="strides"/>) with the rows of batch b
    /// and KV head h scaled by 2^((b·Hkv + h) mod 5 − 2): every head its own magnitude.</summary>
    private static float[] ScaleHeads(float[] data, AttentionShape shape, int dim, TensorStrides strides)
    {
        for (int b = 0; b < shape.Batch; b++)
        {
            for (int h = 0; h < shape.KeyValueHeads; h++)
            {
                float factor = MathF.Pow(2, (((b * shape.KeyValueHeads) + h) % 5) - 2);
                for (int j = 0; j < shape.KeyLength; j++)
                {
                    long row = (b * strides.Batch) + (h * strides.Head) + (j * strides.Sequence);
                    for (int x = 0; x < dim; x++)
                    {
                        data[row + x] *= factor;
                    }
                }
            }
        }

        return data;
    }

    /// <summary><paramref name="data"/> with each row of <paramref name="dim"/> elements scaled by its own amplitude in
    /// [10^−1.5, 10^0.5].</summary>
    private static float[] ScaleRows(Random random, float[] data, int dim)
    {
        for (long row = 0; row < data.Length; row += dim)
        {
            float amplitude = MathF.Pow(10, ((float)random.NextDouble() * 2) - 1.5f);
            for (long x = row; x < Math.Min(data.Length, row + dim); x++)
            {
                data[x] *= amplitude;
            }
        }

        return data;
    }

    private static void ForEachElement(AttentionShape shape, int dim, TensorStrides strides, int b, int h, Action<long> visit)
    {
        for (int j = 0; j < shape.KeyLength; j++)
        {
            long row = (b * strides.Batch) + (h * strides.Head) + (j * strides.Sequence);
            for (int x = 0; x < dim; x++)
            {
                visit(row + x);
            }
        }
    }
}
