using Attention.Native.Reference;

namespace Attention.Native.Tests.Support;

/// <summary>
/// The bound of an attention output over quantised K/V against the unquantised float64 result (docs/layers.md,
/// docs/cuda-backend.md): with ε_k and ε_v the largest element error of a KV head's keys and values, each score moves
/// by at most <c>Δ = scale·‖q‖₁·ε_k</c>, so each output element by at most <c>(e^{2Δ} − 1)·max|V| + ε_v</c>, plus the
/// output's own rounding (<c>rounding·max|V|</c>). A soft cap only shrinks score differences; the bound holds through it.
/// </summary>
internal static class QuantizationBound
{
    /// <summary>
    /// Asserts every element of <paramref name="output"/> (in the options' layout, for <paramref name="query"/> of
    /// <paramref name="shape"/>) within the bound of <paramref name="unquantized"/>; <paramref name="errors"/> gives
    /// max|V|, ε_k and ε_v per (batch, KV head), <paramref name="rounding"/> the output's relative rounding, and
    /// <paramref name="context"/> the case named in a failure.
    /// </summary>
    public static void AssertWithin<T>(
        AttentionShape shape, AttentionOptions options, float[] query, ReferenceResult unquantized, T[] output, double rounding,
        Func<int, int, (double MaxValue, double KeyError, double ValueError)> errors, string context)
        where T : unmanaged
    {
        var layout = options.Layout;
        var queryStrides = TensorStrides.Contiguous(layout, shape.QueryHeads, shape.QueryLength, shape.HeadDim);
        var outputStrides = TensorStrides.Contiguous(layout, shape.QueryHeads, shape.QueryLength, shape.ValueHeadDim);
        double scale = options.Scale ?? 1.0 / Math.Sqrt(shape.HeadDim);
        int row = 0;
        for (int b = 0; b < shape.Batch; b++)
        {
            for (int h = 0; h < shape.QueryHeads; h++)
            {
                var (maxValue, keyError, valueError) = errors(b, h / shape.GroupSize);
                for (int i = 0; i < shape.QueryLength; i++, row++)
                {
                    long q = (b * queryStrides.Batch) + (h * queryStrides.Head) + (i * queryStrides.Sequence);
                    double norm = 0;
                    for (int x = 0; x < shape.HeadDim; x++)
                    {
                        norm += Math.Abs(query[q + x]);
                    }

                    double delta = scale * norm * keyError;
                    double bound = ((Math.Exp(2 * delta) - 1) * maxValue) + valueError + (rounding * maxValue);
                    long o = (b * outputStrides.Batch) + (h * outputStrides.Head) + (i * outputStrides.Sequence);
                    for (int c = 0; c < shape.ValueHeadDim; c++)
                    {
                        double expected = unquantized.Output[(row * shape.ValueHeadDim) + c];
                        double actual = TestData.ToDouble(output[o + c]);
                        Assert.True(Math.Abs(actual - expected) <= bound,
                            $"b={b} h={h} i={i} c={c}: {actual} vs unquantised {expected}, bound {bound:E3} ({context})");
                    }
                }
            }
        }
    }
}
