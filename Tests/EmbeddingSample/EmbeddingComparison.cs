namespace EmbeddingSample;

/// <summary>How far one engine's embeddings are from another's: per sentence, the cosine and the largest difference.</summary>
/// <param name="MinCosine">The smallest cosine between matching embeddings.</param>
/// <param name="MaxAbsDifference">The largest |a − b| over every value.</param>
public readonly record struct EmbeddingComparison(double MinCosine, double MaxAbsDifference)
{
    /// <summary>The bar for float: cosine ≥ 0.99999 and max |diff| ≤ 1e-4 for every sentence.</summary>
    public static readonly EmbeddingComparison FloatTolerance = new(0.99999, 1e-4);

    /// <summary>For Half weights and activations (11-bit significands through six layers).</summary>
    public static readonly EmbeddingComparison HalfTolerance = new(0.999, 1e-2);

    /// <summary>Whether this is within <paramref name="tolerance"/>.</summary>
    /// <param name="tolerance">The bar.</param>
    /// <returns>True when both measures are.</returns>
    public bool IsWithin(EmbeddingComparison tolerance) =>
        MinCosine >= tolerance.MinCosine && MaxAbsDifference <= tolerance.MaxAbsDifference;

    /// <summary>Compares <paramref name="a"/> with <paramref name="b"/>, rows of <paramref name="width"/> values.</summary>
    /// <param name="a">Embeddings, <c>[B, width]</c>.</param>
    /// <param name="b">Embeddings, <c>[B, width]</c>.</param>
    /// <param name="width">The embedding size.</param>
    /// <returns>The worst cosine and difference.</returns>
    /// <exception cref="ArgumentException">The arrays differ in length or are not whole rows.</exception>
    public static EmbeddingComparison Of(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int width)
    {
        if (width < 1 || a.Length != b.Length || a.Length % width != 0)
        {
            throw new ArgumentException($"a holds {a.Length} values and b {b.Length}; expected equal whole rows of {width}.", nameof(b));
        }

        double minCosine = double.PositiveInfinity, maxDiff = 0;
        for (int row = 0; row < a.Length; row += width)
        {
            minCosine = Math.Min(minCosine, Cosine(a.Slice(row, width), b.Slice(row, width)));
            for (int i = row; i < row + width; i++)
            {
                // NaN compares false: a NaN anywhere makes the difference NaN, which fails every bar.
                double d = Math.Abs((double)a[i] - b[i]);
                maxDiff = double.IsNaN(d) || d > maxDiff ? d : maxDiff;
            }
        }

        return new(minCosine, maxDiff);
    }

    /// <summary>The cosine of the angle between <paramref name="a"/> and <paramref name="b"/>, in float64.</summary>
    /// <param name="a">A vector.</param>
    /// <param name="b">A vector of the same length.</param>
    /// <returns>a·b / (‖a‖‖b‖).</returns>
    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            aa += (double)a[i] * a[i];
            bb += (double)b[i] * b[i];
        }

        return dot / Math.Sqrt(aa * bb);
    }

    /// <summary>This as a bar: <c>cosine ≥ 0.99999, max |diff| ≤ 1.0E-4</c>.</summary>
    /// <returns>The text.</returns>
    public string AsTolerance() => FormattableString.Invariant($"cosine ≥ {MinCosine}, max |diff| ≤ {MaxAbsDifference:0.0E+0}");

    /// <inheritdoc/>
    public override string ToString() => FormattableString.Invariant($"min cosine {MinCosine:0.0000000}, max |diff| {MaxAbsDifference:0.0E+0}");
}
