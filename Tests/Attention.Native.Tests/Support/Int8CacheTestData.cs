using Attention.Native.Cpu.Decode;

namespace Attention.Native.Tests.Support;

/// <summary>
/// K or V quantised to int8 in place of a float tensor of the same layout (<see cref="Int8Quantizer"/>, one scale per
/// (batch, KV head, key)): the stored bytes, the scales, and the values they stand for (<c>q·s</c>), which the float64
/// reference takes.
/// </summary>
public sealed class Int8CacheTestData
{
    private Int8CacheTestData(sbyte[] stored, float[] scales, float[] dequantized, float[] original)
    {
        Stored = stored;
        Scales = scales;
        Dequantized = dequantized;
        Original = original;
    }

    public sbyte[] Stored { get; }

    public float[] Scales { get; }

    /// <summary>The values the int8 rows stand for, in the original's layout (elements outside the rows are 0).</summary>
    public float[] Dequantized { get; }

    /// <summary>The unquantised values.</summary>
    public float[] Original { get; }

    /// <summary>
    /// Quantises the rows of <paramref name="original"/> (<c>[B, Hkv, L, dim]</c> at <paramref name="strides"/>) with
    /// scales at <paramref name="scaleStrides"/>.
    /// </summary>
    public static unsafe Int8CacheTestData Quantize(
        float[] original, AttentionShape shape, int dim, TensorStrides strides, TensorStrides scaleStrides)
    {
        var stored = new sbyte[original.Length];
        var dequantized = new float[original.Length];
        long scaleCount = ((shape.Batch - 1) * scaleStrides.Batch) + ((shape.KeyValueHeads - 1) * scaleStrides.Head)
            + ((shape.KeyLength - 1) * scaleStrides.Sequence) + 1;
        var scales = new float[scaleCount];
        Array.Fill(scales, float.NaN);
        fixed (float* source = original)
        fixed (sbyte* target = stored)
        {
            for (int b = 0; b < shape.Batch; b++)
            {
                for (int h = 0; h < shape.KeyValueHeads; h++)
                {
                    for (int j = 0; j < shape.KeyLength; j++)
                    {
                        long row = (b * strides.Batch) + (h * strides.Head) + (j * strides.Sequence);
                        float scale = Int8Quantizer.QuantizeRow(source + row, target + row, dim);
                        scales[(b * scaleStrides.Batch) + (h * scaleStrides.Head) + (j * scaleStrides.Sequence)] = scale;
                        for (int x = 0; x < dim; x++)
                        {
                            dequantized[row + x] = stored[row + x] * scale;
                        }
                    }
                }
            }
        }

        return new Int8CacheTestData(stored, scales, dequantized, original);
    }
}
