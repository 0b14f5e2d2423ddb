using Attention.Native.Layers;

namespace Attention.Native.Tests.Layers;

/// <summary>
/// <see cref="MultiHeadAttention{T}.Sinks"/>: the full forward, decoding steps on element and int8 caches, against the
/// float64 layer reference with the sinks in each row's denominator; the setter's checks; Backward's gradients (the
/// sinks' own included) against finite differences of that reference.
/// </summary>
public abstract class LayerSinksTests
{
    protected abstract AttentionBackend CreateBackend();

    [Theory]
    [InlineData(4, 4, 7)]
    [InlineData(8, 2, 65)]
    public void Forward_with_sinks_matches_reference(int heads, int kvHeads, int length)
    {
        const int batch = 2, e = 32;
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(e, heads) { NumKeyValueHeads = kvHeads }, seed: 60 + length);
        var sinks = TestData.Random<float>(fixture.Random, heads, 3f);
        var x = fixture.Input(batch, length, e);
        var masks = new LayerMasks { Causal = CausalMask.TopLeft };
        var expected = fixture.Reference(batch, x, x, x, masks, sinks).Output;
        using var backend = CreateBackend();
        using var layer = fixture.Create(backend);
        layer.Sinks = sinks;
        Assert.Equal(sinks, layer.Sinks.ToArray());
        using var input = backend.Upload<float>(x);
        using var output = backend.Upload<float>(TestData.Poison<float>(x.Length));
        layer.Forward(batch, input, output, masks);
        LayerFixture.AssertClose(expected, output.ToArray(), 1e-5);

        // Cleared sinks give the plain layer back.
        layer.Sinks = default;
        layer.Forward(batch, input, output, masks);
        LayerFixture.AssertClose(fixture.Reference(batch, x, x, x, masks).Output, output.ToArray(), 1e-5, "without sinks");
    }

    [Fact]
    public void Decoding_steps_with_sinks_match_reference()
    {
        const int batch = 2, e = 16, total = 6;
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(e, 4) { NumKeyValueHeads = 2 }, seed: 61);
        var sinks = TestData.Random<float>(fixture.Random, 4, 3f);
        var x = fixture.Input(batch, total, e);
        var expected = fixture.Reference(batch, x, x, x, new LayerMasks { Causal = CausalMask.TopLeft }, sinks).Output;
        using var backend = CreateBackend();
        using var layer = fixture.Create(backend);
        layer.Sinks = sinks;
        using var cache = layer.CreateCache(batch, total);
        foreach ((int start, int n) in new[] { (0, 3), (3, 1), (4, 2) })
        {
            using var input = backend.Upload<float>(KeyValueCacheTests.Rows(x, batch, total, start, n, e));
            using var output = backend.Upload<float>(TestData.Poison<float>(batch * n * e));
            layer.ForwardStep(cache, input, output);
            LayerFixture.AssertClose(KeyValueCacheTests.Rows(expected, batch, total, start, n, e), output.ToArray(), 1e-5, $"step at {start}");
        }
    }

    [Fact]
    public void Bad_sinks_are_rejected()
    {
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(8, 2), seed: 62);
        using var backend = CreateBackend();
        using var layer = fixture.Create(backend);
        Assert.Throws<ArgumentException>(() => layer.Sinks = new float[3]);
        Assert.Throws<ArgumentOutOfRangeException>(() => layer.Sinks = new[] { 0f, float.NaN });
        Assert.True(layer.Sinks.IsEmpty);
    }

    /// <summary>
    /// Backward with sinks: the sinks' gradient, the input's and the weights' against central differences of the
    /// float64 layer reference (loss <c>Σ output·G</c>), causal self-attention with GQA, so some rows see one key.
    /// </summary>
    [Fact]
    public void Backward_with_sinks_matches_finite_differences()
    {
        const int batch = 2;
        var options = new MultiHeadAttentionOptions(6, 2) { NumKeyValueHeads = 1 };
        var fixture = new LayerFixture(options, seed: 63);
        var masks = new LayerMasks { Causal = CausalMask.TopLeft };
        var sinks = new[] { 0.7f, -0.4f };
        var x = fixture.Input(batch, 4, 6);
        var outputGrad = fixture.Input(batch, 4, 6);
        using var backend = CreateBackend();
        using var layer = fixture.Create(backend);
        layer.Sinks = sinks;
        var output = TestData.Poison<float>(x.Length);
        var grads = layer.Backward(layer.ForwardForTraining(batch, x, output, masks), outputGrad);
        LayerFixture.AssertClose(fixture.Reference(batch, x, x, x, masks, sinks).Output, output, 1e-5, "output");

        double Loss() => FiniteDifferences.Dot(fixture.Reference(batch, x, x, x, masks, sinks).Output, outputGrad);
        LayerFixture.AssertClose(FiniteDifferences.Gradient(sinks, Loss), grads.SinksGrad, 1e-4, "sinksGrad");
        LayerFixture.AssertClose(FiniteDifferences.Gradient(x, Loss), grads.QueryGrad, 1e-4, "queryGrad");
        LayerFixture.AssertClose(FiniteDifferences.Gradient(fixture.Weights.QProjWeight, Loss), grads.PyTorch.QProjWeight, 1e-4, "q_proj_weight");
        LayerFixture.AssertClose(FiniteDifferences.Gradient(fixture.Weights.OutProjWeight, Loss), grads.PyTorch.OutProjWeight, 1e-4, "out_proj.weight");
    }
}

/// <summary>The sink tests on the CPU backend, and a decoding step on an int8 cache.</summary>
public sealed class CpuLayerSinksTests : LayerSinksTests
{
    protected override AttentionBackend CreateBackend() => LayerTestBackends.Cpu();

    [Fact]
    public void Int8_cache_steps_with_sinks_stay_within_the_int8_error()
    {
        const int batch = 1, e = 16, total = 5;
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(e, 2), seed: 63);
        var sinks = new[] { 1.5f, -0.5f };
        var x = fixture.Input(batch, total, e);
        var expected = fixture.Reference(batch, x, x, x, new LayerMasks { Causal = CausalMask.TopLeft }, sinks).Output;
        using var backend = CreateBackend();
        using var layer = fixture.Create(backend);
        layer.Sinks = sinks;
        using var cache = layer.CreateCache(batch, total, storage: KeyValueCacheStorage.Int8);
        foreach ((int start, int n) in new[] { (0, 4), (4, 1) })
        {
            using var input = backend.Upload<float>(KeyValueCacheTests.Rows(x, batch, total, start, n, e));
            using var output = backend.Upload<float>(TestData.Poison<float>(batch * n * e));
            layer.ForwardStep(cache, input, output);
            LayerFixture.AssertClose(KeyValueCacheTests.Rows(expected, batch, total, start, n, e), output.ToArray(), 1e-2, $"step at {start}");
        }
    }
}

/// <summary>The sink tests on the CUDA backend.</summary>
[Trait("Device", "Cuda")]
public sealed class CudaLayerSinksTests : LayerSinksTests
{
    protected override AttentionBackend CreateBackend() => LayerTestBackends.Cuda();
}
