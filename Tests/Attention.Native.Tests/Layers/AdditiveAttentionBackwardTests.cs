using Attention.Native.Cpu;
using Attention.Native.Layers;

namespace Attention.Native.Tests.Layers;

/// <summary>
/// <see cref="AdditiveAttention.Backward"/> against finite differences of the float64 Bahdanau reference
/// (<see cref="AdditiveAttentionTests.Reference"/>), in every CPU variant and with each mask kind: the loss is
/// <c>Σ output·G</c> for a random <c>G</c>, so <c>G</c> is the output's gradient.
/// </summary>
public sealed class AdditiveAttentionBackwardTests
{
    private const int Batch = 2, Tq = 3, Tk = 5, Dq = 3, Dk = 4, Units = 19, Dv = 3;

    public static TheoryData<CpuKernelVariant, string> Cases()
    {
        var data = new TheoryData<CpuKernelVariant, string>();
        foreach (var kind in new[] { "none", "key-padding", "key-lengths", "causal", "bias", "fully-masked-row" })
        {
            data.Add(CpuKernelVariant.Auto, kind);
        }

        foreach (var variant in new[] { CpuKernelVariant.Vector512, CpuKernelVariant.Vector256, CpuKernelVariant.Vector128, CpuKernelVariant.Scalar })
        {
            data.Add(variant, "key-padding");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gradients_match_finite_differences_of_the_float64_reference(CpuKernelVariant variant, string kind)
    {
        var random = TestRandom.Create($"additive-backward-{variant}-{kind}");
        var masks = kind switch
        {
            "none" => null,
            "key-padding" => new LayerMasks { KeyPadding = Enumerable.Range(0, Batch * Tk).Select(i => i % Tk < 3 || i % 4 == 0).ToArray() },
            "key-lengths" => new LayerMasks { KeyLengths = new[] { 2, 5 } },
            "causal" => new LayerMasks { Causal = CausalMask.BottomRight },
            "bias" => new LayerMasks { AttentionBias = TestData.Random<float>(random, Batch * Tq * Tk, 1f) },
            "fully-masked-row" => new LayerMasks { AttentionMask = Enumerable.Range(0, Tq * Tk).Select(i => i >= Tk).ToArray() },
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        var w1 = TestData.Random<float>(random, Units * Dq, 0.5f);
        var w2 = TestData.Random<float>(random, Units * Dk, 0.5f);
        var v = TestData.Random<float>(random, Units, 0.5f);
        var q = TestData.Random<float>(random, Batch * Tq * Dq, 1f);
        var k = TestData.Random<float>(random, Batch * Tk * Dk, 1f);
        var value = TestData.Random<float>(random, Batch * Tk * Dv, 1f);
        var outputGrad = TestData.Random<float>(random, Batch * Tq * Dv, 1f);

        using var backend = new CpuBackend(new CpuBackendOptions { Variant = variant });
        using var layer = new AdditiveAttention(backend, new AdditiveAttentionOptions(Dq, Dk, Units) { ValueDim = Dv });
        layer.LoadWeights(w1, w2, v);
        var output = TestData.Poison<float>(Batch * Tq * Dv);
        var activations = layer.ForwardForTraining(Batch, q, k, value, output, masks);
        var grads = layer.Backward(activations, outputGrad);

        double Loss() => FiniteDifferences.Dot(
            AdditiveAttentionTests.Reference(Batch, Tq, Tk, Dq, Dk, Units, Dv, w1, w2, v, q, k, value, masks).Output, outputGrad);
        LayerFixture.AssertClose(FiniteDifferences.Gradient(q, Loss), grads.QueryGrad, 1e-4, "queryGrad");
        LayerFixture.AssertClose(FiniteDifferences.Gradient(k, Loss), grads.KeyGrad, 1e-4, "keyGrad");
        LayerFixture.AssertClose(FiniteDifferences.Gradient(value, Loss), grads.ValueGrad, 1e-4, "valueGrad");
        LayerFixture.AssertClose(FiniteDifferences.Gradient(w1, Loss), grads.QueryWeightGrad, 1e-4, "queryWeightGrad");
        LayerFixture.AssertClose(FiniteDifferences.Gradient(w2, Loss), grads.KeyWeightGrad, 1e-4, "keyWeightGrad");
        LayerFixture.AssertClose(FiniteDifferences.Gradient(v, Loss), grads.ScoreVectorGrad, 1e-4, "scoreVectorGrad");
        if (kind == "fully-masked-row")
        {
            // Row 0 of each sequence sees no key: its query gets no gradient (and no NaN).
            Assert.All(grads.QueryGrad.Take(Dq), g => Assert.Equal(0f, g));
        }
    }

    [Fact]
    public void Bad_calls_are_rejected_by_name()
    {
        using var backend = new CpuBackend();
        using var layer = new AdditiveAttention(backend, new AdditiveAttentionOptions(Dq, Dk, Units) { ValueDim = Dv });
        using var other = new AdditiveAttention(backend, new AdditiveAttentionOptions(Dq, Dk, Units) { ValueDim = Dv });
        var activations = layer.ForwardForTraining(1, new float[Tq * Dq], new float[Tk * Dk], new float[Tk * Dv], new float[Tq * Dv]);
        Assert.Equal("outputGrad", Assert.Throws<ArgumentException>(() => layer.Backward(activations, new float[(Tq * Dv) + 1])).ParamName);
        Assert.Equal("activations", Assert.Throws<ArgumentException>(() => other.Backward(activations, new float[Tq * Dv])).ParamName);
        Assert.Equal("query", Assert.Throws<ArgumentException>(
            () => layer.ForwardForTraining(2, new float[(Tq * Dq) + 1], new float[Tk * Dk], new float[Tk * Dv], new float[Tq * Dv])).ParamName);
    }
}
