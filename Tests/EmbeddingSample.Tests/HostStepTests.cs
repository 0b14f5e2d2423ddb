using EmbeddingSample.Simd;

namespace EmbeddingSample.Tests;

/// <summary>The encoder's host steps (layer norm, GELU, pooling) against float64 on random rows of odd and even lengths.</summary>
public sealed class HostStepTests
{
    public static readonly TheoryData<int> Lengths = [1, 7, 8, 63, 65, 384, 1000];

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Layer_norm_matches_float64(int n)
    {
        var random = new Random(n);
        float[] x = Random(random, n, 3), residual = Random(random, n, 1), scale = Random(random, n, 1), shift = Random(random, n, 1);
        float[] bias = Random(random, n, 1);
        foreach (bool withResidual in (bool[])[false, true])
        {
            var y = Poisoned(n);
            LayerNorm.Apply(x, withResidual ? bias : default, withResidual ? residual : default, y, scale, shift, 1e-12f);
            double[] s = [.. x.Select((v, i) => v + (withResidual ? (double)residual[i] + bias[i] : 0))];
            double mean = s.Average(), variance = s.Select(v => (v - mean) * (v - mean)).Average();
            for (int i = 0; i < n; i++)
            {
                double expected = ((s[i] - mean) / Math.Sqrt(variance + 1e-12) * scale[i]) + shift[i];
                Assert.True(Math.Abs(y[i] - expected) <= 2e-5 * (1 + Math.Abs(expected)), $"n {n}, residual {withResidual}, [{i}]: {y[i]} vs {expected}");
            }

            // In place (y = the residual, or y = x) gives the same values.
            float[] inPlace = withResidual ? [.. residual] : [.. x];
            LayerNorm.Apply(withResidual ? x : inPlace, withResidual ? bias : default, withResidual ? inPlace : default, inPlace, scale, shift, 1e-12f);
            Assert.Equal(y, inPlace);
        }
    }

    [Fact]
    public void Layer_norm_refuses_rows_of_other_lengths() =>
        Assert.Throws<ArgumentException>("x", () => LayerNorm.Apply(new float[4], default, default, new float[3], new float[4], new float[4], 1e-12f));

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Gelu_matches_float64(int n)
    {
        var random = new Random(1000 + n);
        float[] x = Random(random, n, 6);
        x[0] = n switch { 1 => 0f, 7 => -9f, _ => 30f };
        float[] bias = Random(random, n, 1);
        float[] y = [.. x], biased = [.. x];
        Gelu.Apply(y);
        Gelu.Apply(biased, bias);
        for (int i = 0; i < n; i++)
        {
            float sum = x[i] + bias[i];
            double withBias = sum * 0.5 * (1 + Erf(sum / Math.Sqrt(2)));
            Assert.True(Math.Abs(biased[i] - withBias) <= (2e-7 * Math.Max(1, Math.Abs(sum))) + (3e-7 * Math.Abs(withBias)), $"n {n}, GELU({x[i]} + {bias[i]}) = {biased[i]}, expected {withBias}");
            // For x < 0, 1 + erf cancels: float erf's absolute error near −1 (a few ulps of 1, up to 2.5e-7) is
            // multiplied by |x|/2.
            double expected = x[i] * 0.5 * (1 + Erf(x[i] / Math.Sqrt(2)));
            double tolerance = (2e-7 * Math.Max(1, Math.Abs(x[i]))) + (3e-7 * Math.Abs(expected));
            Assert.True(Math.Abs(y[i] - expected) <= tolerance, $"n {n}, GELU({x[i]}) = {y[i]}, expected {expected}");
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Pooling_is_the_normalised_mean_of_the_taken_rows(int width)
    {
        var random = new Random(2000 + width);
        const int Rows = 9;
        float[] states = Random(random, Rows * width, 2);
        bool[] take = [.. Enumerable.Range(0, Rows).Select(r => r % 3 != 1)];
        var embedding = Poisoned(width);
        SentencePooling.MeanNormalized(states, take, embedding);
        double[] mean = new double[width];
        for (int r = 0; r < Rows; r++)
        {
            for (int i = 0; take[r] && i < width; i++)
            {
                mean[i] += states[(r * width) + i] / 6.0;
            }
        }

        double norm = Math.Sqrt(mean.Sum(v => v * v));
        for (int i = 0; i < width; i++)
        {
            Assert.True(Math.Abs(embedding[i] - (mean[i] / norm)) <= 1e-6, $"width {width}, [{i}]: {embedding[i]} vs {mean[i] / norm}");
        }

        Assert.Throws<ArgumentException>("take", () => SentencePooling.MeanNormalized(states, new bool[Rows], embedding));
    }

    /// <summary>erf in float64: its Maclaurin series to |x| ≤ 4 (terms below 1e-17 of the sum), the asymptotic erfc beyond
    /// (where erf is 1 − 1.5e-8 or closer).</summary>
    private static double Erf(double x)
    {
        double a = Math.Abs(x);
        if (a > 4)
        {
            double erfc = Math.Exp(-a * a) / (a * Math.Sqrt(Math.PI)) * (1 - (1 / (2 * a * a)) + (3 / (4 * Math.Pow(a, 4))));
            return Math.Sign(x) * (1 - erfc);
        }

        double sum = 0, term = x;
        for (int n = 0; n < 200 && Math.Abs(term) > 1e-18 * Math.Abs(sum); n++)
        {
            sum += term / ((2 * n) + 1);
            term *= -x * x / (n + 1);
        }

        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    private static float[] Random(Random random, int n, float range) =>
        [.. Enumerable.Range(0, n).Select(_ => (float)((random.NextDouble() * 2) - 1) * range)];

    private static float[] Poisoned(int n) => [.. Enumerable.Repeat(float.NaN, n)];
}
