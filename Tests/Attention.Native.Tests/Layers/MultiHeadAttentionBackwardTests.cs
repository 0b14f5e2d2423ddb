using Attention.Native.Cpu;
using Attention.Native.Layers;

namespace Attention.Native.Tests.Layers;

/// <summary>
/// <see cref="MultiHeadAttention{T}.Backward"/> against finite differences of the float64 layer reference
/// (<see cref="LayerReference"/>) on the CPU backend: every weight, bias and input, with each mask kind, GQA,
/// <c>kdim</c>/<c>vdim</c> ≠ E and self-attention. The loss is <c>Σ output·G</c> for a random <c>G</c>.
/// </summary>
public sealed class MultiHeadAttentionBackwardTests
{
    private const int Batch = 2;

    public static TheoryData<string> Cases() =>
        ["self", "self-no-bias", "self-causal", "cross-gqa-kdim", "cross-key-padding", "cross-bottom-right", "mask-and-bias", "key-lengths", "fully-masked-row"];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gradients_match_finite_differences_of_the_float64_reference(string kind) => CheckGradients(kind, CpuKernelVariant.Auto);

    /// <summary>The host SGEMMs and the attention backward in each forced variant (emulated where the machine lacks it).</summary>
    [Theory]
    [InlineData(CpuKernelVariant.Vector512)]
    [InlineData(CpuKernelVariant.Vector256)]
    [InlineData(CpuKernelVariant.Vector128)]
    [InlineData(CpuKernelVariant.Scalar)]
    public void Gradients_in_each_variant_match_finite_differences(CpuKernelVariant variant) => CheckGradients("cross-gqa-kdim", variant);

    private static void CheckGradients(string kind, CpuKernelVariant variant)
    {
        var (options, lq, lk, masks) = Case(kind);
        var fixture = new LayerFixture(options, TestRandom.SeedOf($"mha-backward-{kind}"));
        bool self = kind.StartsWith("self", StringComparison.Ordinal) || kind is "mask-and-bias" or "key-lengths" or "fully-masked-row";
        var query = fixture.Input(Batch, lq, fixture.ModelDim);
        var key = self ? query : fixture.Input(Batch, lk, fixture.KeyInputDim);
        var value = self ? query : fixture.Input(Batch, lk, fixture.ValueInputDim);
        var outputGrad = fixture.Input(Batch, lq, fixture.ModelDim);

        using var backend = new CpuBackend(new CpuBackendOptions { Variant = variant });
        using var layer = fixture.Create(backend);
        var output = TestData.Poison<float>(outputGrad.Length);
        var activations = self ? layer.ForwardForTraining(Batch, query, output, masks) : layer.ForwardForTraining(Batch, query, key, value, output, masks);
        LayerFixture.AssertClose(fixture.Reference(Batch, query, key, value, masks).Output, output);
        var grads = layer.Backward(activations, outputGrad);

        var w = fixture.Weights;
        double Loss() => FiniteDifferences.Dot(fixture.Reference(Batch, query, key, value, masks).Output, outputGrad);
        Check(w.QProjWeight, grads.PyTorch.QProjWeight, "q_proj_weight");
        Check(w.KProjWeight, grads.PyTorch.KProjWeight, "k_proj_weight");
        Check(w.VProjWeight, grads.PyTorch.VProjWeight, "v_proj_weight");
        Check(w.OutProjWeight, grads.PyTorch.OutProjWeight, "out_proj.weight");
        Check(w.InProjBias, grads.PyTorch.InProjBias, "in_proj_bias");
        Check(w.OutProjBias, grads.PyTorch.OutProjBias, "out_proj.bias");
        Check(query, grads.QueryGrad, "queryGrad");
        if (self)
        {
            Assert.Empty(grads.KeyGrad);
            Assert.Empty(grads.ValueGrad);
        }
        else
        {
            Check(key, grads.KeyGrad, "keyGrad");
            Check(value, grads.ValueGrad, "valueGrad");
        }

        void Check(float[] parameter, float[] analytic, string what)
        {
            Assert.Equal(parameter.Length, analytic.Length);
            if (parameter.Length > 0)
            {
                LayerFixture.AssertClose(FiniteDifferences.Gradient(parameter, Loss), analytic, 1e-4, what);
            }
        }
    }

    /// <summary>The Keras-layout gradients are the PyTorch-layout ones rearranged as <see cref="MultiHeadAttention{T}.LoadKerasWeights"/> expects.</summary>
    [Fact]
    public void Keras_gradients_are_the_PyTorch_ones_in_Keras_layout()
    {
        var options = new MultiHeadAttentionOptions(6, 2) { NumKeyValueHeads = 1, KeyDim = 4, ValueDim = 5, KeyInputDim = 3, ValueInputDim = 7 };
        var fixture = new LayerFixture(options, 77);
        using var backend = new CpuBackend();
        using var layer = fixture.Create(backend);
        int lq = 3, lk = 4;
        var activations = layer.ForwardForTraining(
            Batch, fixture.Input(Batch, lq, 6), fixture.Input(Batch, lk, 3), fixture.Input(Batch, lk, 7), new float[Batch * lq * 6]);
        var grads = layer.Backward(activations, fixture.Input(Batch, lq, 6));

        // Loading the PyTorch-layout gradients as weights and reading them back in Keras' layout gives the Keras gradients.
        var p = grads.PyTorch;
        layer.LoadPyTorchWeights(p.QProjWeight, p.KProjWeight, p.VProjWeight, p.InProjBias, p.OutProjWeight, p.OutProjBias);
        Assert.Equal(layer.ReadKerasWeights(), grads.Keras, new KerasComparer());
    }

    /// <summary>A Half layer trains in float on its weights' values: its gradients are a float layer's on the rounded weights and inputs.</summary>
    [Fact]
    public void Half_layer_gradients_are_the_float_gradients_of_its_rounded_values()
    {
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(8, 2), 5).RoundedTo<Half>();
        var query = LayerFixture.Rounded<Half>(fixture.Input(Batch, 5, 8));
        var outputGrad = LayerFixture.Rounded<Half>(fixture.Input(Batch, 5, 8));
        using var backend = new CpuBackend();
        using var wide = fixture.Create(backend);
        using var narrow = fixture.Create<Half>(backend);
        var expected = wide.Backward(wide.ForwardForTraining(Batch, query, new float[query.Length]), outputGrad);
        var actual = narrow.Backward(
            narrow.ForwardForTraining(Batch, LayerFixture.Narrow<Half>(query), new Half[query.Length]), LayerFixture.Narrow<Half>(outputGrad));
        Assert.Equal(expected.QueryGrad, actual.QueryGrad);
        Assert.Equal(expected.PyTorch.InProjWeight(), actual.PyTorch.InProjWeight());
        Assert.Equal(expected.PyTorch.OutProjWeight, actual.PyTorch.OutProjWeight);
    }

    [Fact]
    public void Bad_calls_are_rejected_by_name()
    {
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(4, 2), 3);
        using var backend = new CpuBackend();
        using var layer = fixture.Create(backend);
        using var other = fixture.Create(backend);
        var output = TestData.Poison<float>(Batch * 3 * 4);
        Assert.Equal("query", Assert.Throws<ArgumentException>(() => layer.ForwardForTraining(Batch, new float[(Batch * 3 * 4) + 1], output)).ParamName);
        Assert.Equal("value", Assert.Throws<ArgumentException>(
            () => layer.ForwardForTraining(Batch, new float[Batch * 3 * 4], new float[Batch * 5 * 4], new float[Batch * 4 * 4], output)).ParamName);
        Assert.All(output, v => Assert.True(float.IsNaN(v)));
        var activations = layer.ForwardForTraining(Batch, new float[Batch * 3 * 4], output);
        Assert.Equal("outputGrad", Assert.Throws<ArgumentException>(() => layer.Backward(activations, new float[5])).ParamName);
        Assert.Equal("activations", Assert.Throws<ArgumentException>(() => other.Backward(activations, new float[output.Length])).ParamName);
    }

    private static (MultiHeadAttentionOptions Options, int Lq, int Lk, LayerMasks? Masks) Case(string kind)
    {
        var mha = new MultiHeadAttentionOptions(6, 2);
        var random = TestRandom.Create(kind);
        return kind switch
        {
            "self" => (mha, 4, 4, null),
            "self-no-bias" => (mha with { UseBias = false }, 4, 4, null),
            "self-causal" => (mha, 5, 5, new LayerMasks { Causal = CausalMask.TopLeft }),
            "cross-gqa-kdim" => (new MultiHeadAttentionOptions(6, 4) { NumKeyValueHeads = 2, KeyDim = 3, ValueDim = 2, KeyInputDim = 5, ValueInputDim = 3 }, 3, 5, null),
            "cross-key-padding" => (mha, 3, 5, new LayerMasks { KeyPadding = Enumerable.Range(0, Batch * 5).Select(i => i % 5 != 3).ToArray() }),
            "cross-bottom-right" => (mha, 3, 5, new LayerMasks { Causal = CausalMask.BottomRight }),
            "mask-and-bias" => (mha, 4, 4, new LayerMasks { AttentionMask = TestData.RandomMask(random, Batch * 4 * 4, 0.8), AttentionBias = TestData.Random<float>(random, 4 * 4, 1f) }),
            "key-lengths" => (mha, 4, 4, new LayerMasks { KeyLengths = new[] { 2, 4 } }),
            "fully-masked-row" => (mha, 3, 3, new LayerMasks { AttentionMask = Enumerable.Range(0, 3 * 3).Select(i => i >= 3).ToArray() }),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    private sealed class KerasComparer : IEqualityComparer<KerasAttentionWeights>
    {
        public bool Equals(KerasAttentionWeights? x, KerasAttentionWeights? y) =>
            x is not null && y is not null && Flat(x).SequenceEqual(Flat(y));

        public int GetHashCode(KerasAttentionWeights obj) => 0;

        private static float[] Flat(KerasAttentionWeights w) =>
            [.. w.QueryKernel, .. w.QueryBias, .. w.KeyKernel, .. w.KeyBias, .. w.ValueKernel, .. w.ValueBias, .. w.OutputKernel, .. w.OutputBias];
    }
}
