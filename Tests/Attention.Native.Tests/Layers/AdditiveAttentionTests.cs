using Attention.Native.Layers;

namespace Attention.Native.Tests.Layers;

/// <summary><see cref="AdditiveAttention"/> against a float64 Bahdanau reference, with each mask kind and the weights.</summary>
public abstract class AdditiveAttentionTests
{
    protected abstract AttentionBackend CreateBackend();

    public static TheoryData<string> Kinds() => ["none", "key-padding", "key-lengths", "mask-shared", "mask-per-batch", "causal", "bias", "fully-masked-row"];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Matches_reference(string kind)
    {
        const int batch = 2, tq = 5, tk = 11, dq = 6, dk = 7, units = 19, dv = 9;
        var random = TestRandom.Create(kind.Length);
        var masks = kind switch
        {
            "none" => null,
            "key-padding" => new LayerMasks { KeyPadding = Enumerable.Range(0, batch * tk).Select(i => i % tk < 8 || i % 3 == 0).ToArray() },
            "key-lengths" => new LayerMasks { KeyLengths = new[] { 3, 11 } },
            "mask-shared" => new LayerMasks { AttentionMask = TestData.RandomMask(random, tq * tk) },
            "mask-per-batch" => new LayerMasks { AttentionMask = TestData.RandomMask(random, batch * tq * tk) },
            "causal" => new LayerMasks { Causal = CausalMask.BottomRight },
            "bias" => new LayerMasks { AttentionBias = TestData.Random<float>(random, batch * tq * tk, 1f) },
            "fully-masked-row" => new LayerMasks { AttentionMask = Enumerable.Range(0, tq * tk).Select(i => i >= tk).ToArray() },
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        var w1 = TestData.Random<float>(random, units * dq, 0.5f);
        var w2 = TestData.Random<float>(random, units * dk, 0.5f);
        var v = TestData.Random<float>(random, units, 0.5f);
        var q = TestData.Random<float>(random, batch * tq * dq, 1f);
        var k = TestData.Random<float>(random, batch * tk * dk, 1f);
        var value = TestData.Random<float>(random, batch * tk * dv, 1f);

        using var backend = CreateBackend();
        using var layer = new AdditiveAttention(backend, new AdditiveAttentionOptions(dq, dk, units) { ValueDim = dv });
        layer.LoadWeights(w1, w2, v);
        var output = TestData.Poison<float>(batch * tq * dv);
        var weights = TestData.Poison<float>(batch * tq * tk);
        layer.Forward(batch, q, k, value, output, masks, weights);

        var (expected, probabilities) = Reference(batch, tq, tk, dq, dk, units, dv, w1, w2, v, q, k, value, masks);
        LayerFixture.AssertClose(expected, output);
        LayerFixture.AssertClose(probabilities, weights, what: "weights");
        Assert.Equal(w1, layer.ReadWeights().QueryWeight);
    }

    /// <summary>Weights loaded again after a forward pass (which keeps W₁ and W₂ packed on the CPU) are the ones the next pass uses.</summary>
    [Fact]
    public void Weights_loaded_after_a_forward_pass_are_the_ones_used()
    {
        const int batch = 2, tq = 5, tk = 11, dq = 6, dk = 7, units = 19;
        var random = TestRandom.Create(31);
        var q = TestData.Random<float>(random, batch * tq * dq, 1f);
        var k = TestData.Random<float>(random, batch * tk * dk, 1f);
        var value = TestData.Random<float>(random, batch * tk * dk, 1f);
        using var backend = CreateBackend();
        using var layer = new AdditiveAttention(backend, new AdditiveAttentionOptions(dq, dk, units));
        for (int load = 0; load < 2; load++)
        {
            var w1 = TestData.Random<float>(random, units * dq, 0.5f);
            var w2 = TestData.Random<float>(random, units * dk, 0.5f);
            var v = TestData.Random<float>(random, units, 0.5f);
            layer.LoadWeights(w1, w2, v);
            var output = TestData.Poison<float>(batch * tq * dk);
            layer.Forward(batch, q, k, value, output);
            LayerFixture.AssertClose(Reference(batch, tq, tk, dq, dk, units, dk, w1, w2, v, q, k, value, null).Output, output);
        }
    }

    [Fact]
    public void Bad_sizes_are_rejected_by_name()
    {
        using var backend = CreateBackend();
        using var layer = new AdditiveAttention(backend, new AdditiveAttentionOptions(4, 4, 8));
        Assert.Equal("keyWeight", Assert.Throws<ArgumentException>(() => layer.LoadWeights(new float[32], new float[31], new float[8])).ParamName);
        var output = TestData.Poison<float>(2 * 3 * 4);
        Assert.Equal("key", Assert.Throws<ArgumentException>(() => layer.Forward(2, new float[24], new float[2 * 5 * 4 + 1], new float[40], output)).ParamName);
        Assert.Equal("value", Assert.Throws<ArgumentException>(() => layer.Forward(2, new float[24], new float[40], new float[32], output)).ParamName);
        Assert.All(output, value => Assert.True(float.IsNaN(value)));
    }

    [Theory]
    [InlineData("query")]
    [InlineData("key")]
    [InlineData("value")]
    public void Weights_that_are_an_input_are_rejected(string input)
    {
        // Tk = QueryDim = KeyDim = ValueDim: the [B, Tq, Tk] weights fit every input's length.
        const int batch = 2, t = 4;
        using var backend = CreateBackend();
        using var layer = new AdditiveAttention(backend, new AdditiveAttentionOptions(t, t, 3));
        var values = TestData.Random<float>(TestRandom.Create(9), batch * t * t, 1f);
        using var q = backend.Upload<float>(values);
        using var k = backend.Upload<float>(values);
        using var v = backend.Upload<float>(values);
        using var output = backend.Allocate<float>(batch * t * t);
        var aliased = input switch { "query" => q, "key" => k, _ => v };
        var error = Assert.Throws<ArgumentException>(() => layer.Forward(batch, q, k, v, output, weights: aliased));
        Assert.Equal("weights", error.ParamName);
        Assert.Equal(values, aliased.ToArray());
    }

    /// <summary>Bahdanau attention in float64, straight from <c>vᵀ·tanh(W₁q + W₂k)</c>.</summary>
    internal static (double[] Output, double[] Weights) Reference(
        int batch, int tq, int tk, int dq, int dk, int units, int dv, float[] w1, float[] w2, float[] v, float[] q, float[] k,
        float[] value, LayerMasks? masks)
    {
        var output = new double[batch * tq * dv];
        var weights = new double[batch * tq * tk];
        for (int b = 0; b < batch; b++)
        {
            for (int i = 0; i < tq; i++)
            {
                var scores = new double[tk];
                for (int j = 0; j < tk; j++)
                {
                    double s = 0;
                    for (int u = 0; u < units; u++)
                    {
                        double a = 0;
                        for (int c = 0; c < dq; c++)
                        {
                            a += (double)w1[(u * dq) + c] * q[(((b * tq) + i) * dq) + c];
                        }

                        for (int c = 0; c < dk; c++)
                        {
                            a += (double)w2[(u * dk) + c] * k[(((b * tk) + j) * dk) + c];
                        }

                        s += v[u] * Math.Tanh(a);
                    }

                    scores[j] = Allowed(masks, b, i, j, tq, tk) ? s + Bias(masks, b, i, j, tq, tk) : double.NegativeInfinity;
                }

                double max = scores.Max();
                if (double.IsNegativeInfinity(max))
                {
                    continue;
                }

                double sum = scores.Sum(s => Math.Exp(s - max));
                for (int j = 0; j < tk; j++)
                {
                    double p = Math.Exp(scores[j] - max) / sum;
                    weights[(((b * tq) + i) * tk) + j] = p;
                    for (int c = 0; c < dv; c++)
                    {
                        output[(((b * tq) + i) * dv) + c] += p * value[(((b * tk) + j) * dv) + c];
                    }
                }
            }
        }

        return (output, weights);
    }

    private static bool Allowed(LayerMasks? m, int b, int i, int j, int tq, int tk)
    {
        if (m is null)
        {
            return true;
        }

        int length = m.KeyLengths.IsEmpty ? tk : m.KeyLengths.Span[b];
        return j < length
            && (m.KeyPadding.IsEmpty || m.KeyPadding.Span[(b * tk) + j])
            && (m.Causal != CausalMask.BottomRight || j <= i + length - tq)
            && (m.AttentionMask.IsEmpty || m.AttentionMask.Span[(m.AttentionMask.Length == tq * tk ? 0 : b * tq * tk) + (i * tk) + j]);
    }

    private static double Bias(LayerMasks? m, int b, int i, int j, int tq, int tk) =>
        m is null || m.AttentionBias.IsEmpty ? 0 : m.AttentionBias.Span[(m.AttentionBias.Length == tq * tk ? 0 : b * tq * tk) + (i * tk) + j];
}
