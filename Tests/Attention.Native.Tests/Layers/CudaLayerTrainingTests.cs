using Attention.Native.Layers;

namespace Attention.Native.Tests.Layers;

/// <summary>The layers' training passes on a CUDA backend give the CPU backend's gradients.</summary>
[Trait("Device", "Cuda")]
public sealed class CudaLayerTrainingTests
{
    /// <summary>The forward runs on the device (its attention weights come back for the backward), the backward on the host.</summary>
    [Fact]
    public void Additive_gradients_equal_the_cpu_layers()
    {
        const int batch = 2, tq = 3, tk = 6, dq = 5, dk = 4, units = 9, dv = 3;
        var random = TestRandom.Create(1501);
        var w1 = TestData.Random<float>(random, units * dq, 0.5f);
        var w2 = TestData.Random<float>(random, units * dk, 0.5f);
        var v = TestData.Random<float>(random, units, 0.5f);
        var q = TestData.Random<float>(random, batch * tq * dq, 1f);
        var k = TestData.Random<float>(random, batch * tk * dk, 1f);
        var value = TestData.Random<float>(random, batch * tk * dv, 1f);
        var outputGrad = TestData.Random<float>(random, batch * tq * dv, 1f);
        var masks = new LayerMasks { KeyLengths = new[] { 4, 6 } };

        AdditiveAttentionGradients Run(AttentionBackend backend)
        {
            using var layer = new AdditiveAttention(backend, new AdditiveAttentionOptions(dq, dk, units) { ValueDim = dv });
            layer.LoadWeights(w1, w2, v);
            var output = TestData.Poison<float>(batch * tq * dv);
            return layer.Backward(layer.ForwardForTraining(batch, q, k, value, output, masks), outputGrad);
        }

        using var cuda = LayerTestBackends.Cuda();
        using var cpu = LayerTestBackends.Cpu();
        var expected = Run(cpu);
        var actual = Run(cuda);
        LayerFixture.AssertClose([.. expected.QueryGrad.Select(g => (double)g)], actual.QueryGrad, 1e-5, "queryGrad");
        LayerFixture.AssertClose([.. expected.KeyGrad.Select(g => (double)g)], actual.KeyGrad, 1e-5, "keyGrad");
        LayerFixture.AssertClose([.. expected.ValueGrad.Select(g => (double)g)], actual.ValueGrad, 1e-5, "valueGrad");
        LayerFixture.AssertClose([.. expected.QueryWeightGrad.Select(g => (double)g)], actual.QueryWeightGrad, 1e-5, "queryWeightGrad");
        LayerFixture.AssertClose([.. expected.ScoreVectorGrad.Select(g => (double)g)], actual.ScoreVectorGrad, 1e-5, "scoreVectorGrad");
    }
    /// <summary>The attention and its backward run on the device, the projections on the host.</summary>
    [Theory]
    [InlineData("self-causal")]
    [InlineData("cross-gqa-padding")]
    public void MultiHeadAttention_gradients_equal_the_cpu_layers(string kind)
    {
        const int batch = 2;
        bool self = kind == "self-causal";
        var options = self ? new MultiHeadAttentionOptions(16, 2) : new MultiHeadAttentionOptions(16, 4) { NumKeyValueHeads = 2, KeyInputDim = 12, ValueInputDim = 10 };
        var fixture = new LayerFixture(options, TestRandom.SeedOf($"cuda-training-{kind}"));
        int lq = 7, lk = self ? 7 : 9;
        var query = fixture.Input(batch, lq, 16);
        var key = fixture.Input(batch, lk, fixture.KeyInputDim);
        var value = fixture.Input(batch, lk, fixture.ValueInputDim);
        var outputGrad = fixture.Input(batch, lq, 16);
        var masks = self ? new LayerMasks { Causal = CausalMask.TopLeft }
            : new LayerMasks { KeyPadding = Enumerable.Range(0, batch * lk).Select(i => i % lk < 7 + (i / lk)).ToArray() };

        MultiHeadAttentionGradients Run(AttentionBackend backend)
        {
            using var layer = fixture.Create(backend);
            var output = TestData.Poison<float>(outputGrad.Length);
            var activations = self ? layer.ForwardForTraining(batch, query, output, masks) : layer.ForwardForTraining(batch, query, key, value, output, masks);
            return layer.Backward(activations, outputGrad);
        }

        using var cuda = LayerTestBackends.Cuda();
        using var cpu = LayerTestBackends.Cpu();
        var expected = Run(cpu);
        var actual = Run(cuda);
        LayerFixture.AssertClose([.. expected.QueryGrad.Select(g => (double)g)], actual.QueryGrad, 1e-5, "queryGrad");
        LayerFixture.AssertClose([.. expected.KeyGrad.Select(g => (double)g)], actual.KeyGrad, 1e-5, "keyGrad");
        LayerFixture.AssertClose([.. expected.PyTorch.InProjWeight().Select(g => (double)g)], actual.PyTorch.InProjWeight(), 1e-5, "in_proj_weight");
        LayerFixture.AssertClose([.. expected.PyTorch.OutProjWeight.Select(g => (double)g)], actual.PyTorch.OutProjWeight, 1e-5, "out_proj.weight");
    }
}
