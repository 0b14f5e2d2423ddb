namespace Attention.Native.Reference;

/// <summary>The float64 gradients of <see cref="ReferenceAttentionBackward"/>.</summary>
public sealed class ReferenceGradients
{
    internal ReferenceGradients(
        AttentionShape shape, double[] queryGrad, double[] keyGrad, double[] valueGrad, double[] biasGrad, double[] sinksGrad)
    {
        SinksGrad = sinksGrad;
        Shape = shape;
        QueryGrad = queryGrad;
        KeyGrad = keyGrad;
        ValueGrad = valueGrad;
        BiasGrad = biasGrad;
    }

    /// <summary>The problem's sizes.</summary>
    public AttentionShape Shape { get; }

    /// <summary>dQ, <c>[B, Hq, Lq, D]</c>, contiguous.</summary>
    public IReadOnlyList<double> QueryGrad { get; }

    /// <summary>dK, <c>[B, Hkv, Lk, D]</c>, contiguous.</summary>
    public IReadOnlyList<double> KeyGrad { get; }

    /// <summary>dV, <c>[B, Hkv, Lk, Dv]</c>, contiguous.</summary>
    public IReadOnlyList<double> ValueGrad { get; }

    /// <summary>The bias gradient in the bias's shape <c>[B|1, Hq|1, Lq, Lk]</c>; empty when there is no bias.</summary>
    public IReadOnlyList<double> BiasGrad { get; }

    /// <summary>The gradient of <see cref="AttentionOptions.Sinks"/>, <c>[Hq]</c>; empty when there are no sinks.</summary>
    public IReadOnlyList<double> SinksGrad { get; }

    /// <summary><see cref="RelativeError{T}"/> of a sinks gradient (<c>[Hq]</c>).</summary>
    /// <param name="actual">The gradient to check.</param>
    /// <returns>The relative error; NaN when it holds NaN.</returns>
    public double SinksGradError(ReadOnlySpan<float> actual) =>
        RelativeError(SinksGrad, actual, 1, 1, SinksGrad.Count, new(SinksGrad.Count, SinksGrad.Count, SinksGrad.Count));

    /// <summary><see cref="RelativeError{T}"/> of a query gradient with the query's strides.</summary>
    /// <typeparam name="T">Element type.</typeparam>
    /// <param name="actual">The gradient to check.</param>
    /// <param name="strides">Its strides.</param>
    /// <returns>The relative error; NaN when it holds NaN.</returns>
    public double QueryGradError<T>(ReadOnlySpan<T> actual, TensorStrides strides)
        where T : unmanaged =>
        RelativeError(QueryGrad, actual, Shape.QueryHeads, Shape.QueryLength, Shape.HeadDim, strides);

    /// <summary><see cref="RelativeError{T}"/> of a key gradient with the key's strides.</summary>
    /// <typeparam name="T">Element type.</typeparam>
    /// <param name="actual">The gradient to check.</param>
    /// <param name="strides">Its strides.</param>
    /// <returns>The relative error; NaN when it holds NaN.</returns>
    public double KeyGradError<T>(ReadOnlySpan<T> actual, TensorStrides strides)
        where T : unmanaged =>
        RelativeError(KeyGrad, actual, Shape.KeyValueHeads, Shape.KeyLength, Shape.HeadDim, strides);

    /// <summary><see cref="RelativeError{T}"/> of a value gradient with the value's strides.</summary>
    /// <typeparam name="T">Element type.</typeparam>
    /// <param name="actual">The gradient to check.</param>
    /// <param name="strides">Its strides.</param>
    /// <returns>The relative error; NaN when it holds NaN.</returns>
    public double ValueGradError<T>(ReadOnlySpan<T> actual, TensorStrides strides)
        where T : unmanaged =>
        RelativeError(ValueGrad, actual, Shape.KeyValueHeads, Shape.KeyLength, Shape.ValueHeadDim, strides);

    /// <summary><see cref="RelativeError{T}"/> of a bias gradient (contiguous, the bias's shape).</summary>
    /// <param name="actual">The gradient to check.</param>
    /// <returns>The relative error; NaN when it holds NaN.</returns>
    public double BiasGradError(ReadOnlySpan<float> actual)
    {
        long plane = (long)Shape.QueryLength * Shape.KeyLength;
        return RelativeError(BiasGrad, actual, (int)(BiasGrad.Count / plane), 1, (int)plane, new(plane, plane, plane));
    }

    /// <summary>
    /// <c>‖actual − expected‖₂ / ‖expected‖₂</c> over a <c>[B, heads, length, dim]</c> tensor read through
    /// <paramref name="strides"/>; the absolute norm <c>‖actual‖₂</c> where the expected gradient is all zeros.
    /// </summary>
    private static double RelativeError<T>(
        IReadOnlyList<double> expected, ReadOnlySpan<T> actual, int heads, int length, int dim, TensorStrides strides)
        where T : unmanaged
    {
        long perBatch = (long)heads * length * dim;
        int batch = (int)(expected.Count / Math.Max(perBatch, 1));
        double difference = 0;
        double norm = 0;
        int index = 0;
        for (int b = 0; b < batch; b++)
        {
            for (int h = 0; h < heads; h++)
            {
                for (int s = 0; s < length; s++)
                {
                    long start = (b * strides.Batch) + (h * strides.Head) + (s * strides.Sequence);
                    for (int c = 0; c < dim; c++, index++)
                    {
                        double d = ElementType.ToSingle(actual[(int)(start + c)]) - expected[index];
                        difference += d * d;
                        norm += expected[index] * expected[index];
                    }
                }
            }
        }

        return norm > 0 ? Math.Sqrt(difference / norm) : Math.Sqrt(difference);
    }
}
