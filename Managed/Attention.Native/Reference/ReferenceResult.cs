namespace Attention.Native.Reference;

/// <summary>The float64 results of <see cref="ReferenceAttention"/>, contiguous in <c>[B, Hq, Lq, …]</c> order.</summary>
public sealed class ReferenceResult
{
    internal ReferenceResult(AttentionShape shape, double[] output, double[] logSumExp, double[] probabilities)
    {
        Shape = shape;
        Output = output;
        LogSumExp = logSumExp;
        Probabilities = probabilities;
    }

    /// <summary>The problem's sizes.</summary>
    public AttentionShape Shape { get; }

    /// <summary>O, <c>[B, Hq, Lq, Dv]</c>; rows that see no key are 0.</summary>
    public IReadOnlyList<double> Output { get; }

    /// <summary>Natural log-sum-exp per row, <c>[B, Hq, Lq]</c>, the sink's term included; −∞ for rows that see no
    /// key (the sink, with <see cref="AttentionOptions.Sinks"/>).</summary>
    public IReadOnlyList<double> LogSumExp { get; }

    /// <summary>Attention weights, <c>[B, Hq, Lq, Lk]</c>; 0 where masked.</summary>
    public IReadOnlyList<double> Probabilities { get; }

    /// <summary>
    /// <c>‖actual − reference‖₂ / ‖reference‖₂</c> over the whole output, reading <paramref name="actual"/> through
    /// <paramref name="strides"/> (null: contiguous in <paramref name="layout"/>). When the reference is all zeros
    /// (every row masked) the absolute norm <c>‖actual‖₂</c> is returned instead.
    /// </summary>
    /// <typeparam name="T">Element type of the output.</typeparam>
    /// <param name="actual">The output to check.</param>
    /// <param name="layout">Its layout, when <paramref name="strides"/> is null.</param>
    /// <param name="strides">Its explicit strides, or null.</param>
    /// <returns>The relative error; NaN when the output holds NaN.</returns>
    public double RelativeError<T>(ReadOnlySpan<T> actual, AttentionLayout layout = AttentionLayout.Bhsd, TensorStrides? strides = null)
        where T : unmanaged
    {
        var s = Shape;
        var o = strides ?? TensorStrides.Contiguous(layout, s.QueryHeads, s.QueryLength, s.ValueHeadDim);
        double difference = 0;
        double norm = 0;
        int index = 0;
        for (int b = 0; b < s.Batch; b++)
        {
            for (int h = 0; h < s.QueryHeads; h++)
            {
                for (int i = 0; i < s.QueryLength; i++)
                {
                    long start = (b * o.Batch) + (h * o.Head) + (i * o.Sequence);
                    for (int c = 0; c < s.ValueHeadDim; c++, index++)
                    {
                        double expected = Output[index];
                        double d = ElementType.ToSingle(actual[(int)(start + c)]) - expected;
                        difference += d * d;
                        norm += expected * expected;
                    }
                }
            }
        }

        return norm > 0 ? Math.Sqrt(difference / norm) : Math.Sqrt(difference);
    }
}
