using System.Numerics;
using System.Runtime.InteropServices;

namespace EmbeddingSample.Simd;

/// <summary>
/// sentence-transformers' pooling for all-MiniLM-L6-v2: the mean of a sentence's token states over its real tokens,
/// then L2 normalisation (<c>v / max(‖v‖, 1e-12)</c>, as <c>torch.nn.functional.normalize</c>).
/// </summary>
public static class SentencePooling
{
    /// <summary>Pools the rows of <paramref name="states"/> that <paramref name="take"/> selects into <paramref name="embedding"/>.</summary>
    /// <param name="states">Token states, rows of <c>embedding.Length</c> values.</param>
    /// <param name="take">Whether row r belongs to the sentence; one flag a row.</param>
    /// <param name="embedding">The normalised mean.</param>
    /// <exception cref="ArgumentException"><paramref name="states"/> is not <c>take.Length</c> rows, or no row is taken.</exception>
    public static void MeanNormalized(ReadOnlySpan<float> states, ReadOnlySpan<bool> take, Span<float> embedding)
    {
        int width = embedding.Length;
        if (width == 0 || states.Length != (long)take.Length * width)
        {
            throw new ArgumentException($"states holds {states.Length} values; expected {take.Length} rows of {width}.", nameof(states));
        }

        embedding.Clear();
        var sum = MemoryMarshal.Cast<float, Vector<float>>(embedding);
        int tail = sum.Length * Vector<float>.Count, rows = 0;
        for (int r = 0; r < take.Length; r++)
        {
            if (!take[r])
            {
                continue;
            }

            rows++;
            var row = states.Slice(r * width, width);
            var lanes = MemoryMarshal.Cast<float, Vector<float>>(row);
            for (int i = 0; i < sum.Length; i++)
            {
                sum[i] += lanes[i];
            }

            for (int i = tail; i < width; i++)
            {
                embedding[i] += row[i];
            }
        }

        if (rows == 0)
        {
            throw new ArgumentException("No row is taken: a sentence needs at least one real token.", nameof(take));
        }

        var squares = Vector<float>.Zero;
        float squareTail = 0;
        for (int i = 0; i < sum.Length; i++)
        {
            squares += sum[i] * sum[i];
        }

        for (int i = tail; i < width; i++)
        {
            squareTail += embedding[i] * embedding[i];
        }

        // normalize(sum / rows) = sum / ‖sum‖ unless the mean's norm is below 1e-12.
        float norm = MathF.Sqrt(Vector.Sum(squares) + squareTail);
        float divisor = Math.Max(norm / rows, 1e-12f) * rows;
        var inverse = new Vector<float>(1f / divisor);
        for (int i = 0; i < sum.Length; i++)
        {
            sum[i] *= inverse;
        }

        for (int i = tail; i < width; i++)
        {
            embedding[i] /= divisor;
        }
    }
}
