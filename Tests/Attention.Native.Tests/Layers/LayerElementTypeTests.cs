using Attention.Native.Layers;

namespace Attention.Native.Tests.Layers;

/// <summary>
/// Half and BFloat16 layers (<see cref="MultiHeadAttention{T}"/> with T = Half / BFloat16) against the float64
/// <see cref="LayerReference"/> of the same weights and inputs rounded to T, on the backend a subclass creates.
/// </summary>
/// <remarks>
/// What is left is the layer's own rounding: the Q/K/V projections, the attention output and the output projection
/// each round to T once (unit roundoff u = 2⁻¹¹ for Half, 2⁻⁸ for BFloat16), the scores inherit the rounding of Q and
/// K, and these relative errors, each at most u and independent, add up in norm to about u/2 on the relative L2 norm of
/// the output (each element's rounding error averages u/√12·√steps). Measured on the CPU and on the emulated device
/// (mma kernel included): Half 2.2–2.6e-4, BFloat16 1.9–2.2e-3 (0.5 u both). The bound is 2 u: room for the GPU kernels (the mma one also rounds the
/// probabilities to T before P·V, as FlashAttention does) while a missing or doubled rounding of a whole operand, a
/// wrong head or a wrong mask (errors of order 1) still fails.
/// </remarks>
public abstract class LayerElementTypeTests
{
    private const double HalfTolerance = 2.0 / 2048;
    private const double BFloat16Tolerance = 2.0 / 256;

    protected abstract AttentionBackend CreateBackend();

    public static TheoryData<int, int, int, int> SelfShapes() => new()
    {
        { 2, 7, 12, 3 },   // head size 4: on a GPU the K/V views start 24 bytes into the packed rows (SIMT)
        { 2, 33, 64, 4 },  // head size 16: tensor cores on a GPU
        { 1, 65, 128, 2 }, // head size 64
    };

    [Theory]
    [MemberData(nameof(SelfShapes))]
    public void Half_self_attention_matches_reference(int batch, int length, int modelDim, int heads) =>
        SelfAttention<Half>(batch, length, modelDim, heads, HalfTolerance);

    [Theory]
    [MemberData(nameof(SelfShapes))]
    public void BFloat16_self_attention_matches_reference(int batch, int length, int modelDim, int heads) =>
        SelfAttention<BFloat16>(batch, length, modelDim, heads, BFloat16Tolerance);

    [Fact]
    public void Half_cross_attention_with_masks_matches_reference() =>
        CrossAttention<Half>(HalfTolerance);

    [Fact]
    public void BFloat16_cross_attention_with_masks_matches_reference() =>
        CrossAttention<BFloat16>(BFloat16Tolerance);

    [Fact]
    public void Half_cache_steps_equal_full_causal_recomputation()
    {
        const int batch = 2, e = 32, total = 9;
        var options = new MultiHeadAttentionOptions(e, 4) { NumKeyValueHeads = 2 };
        var fixture = new LayerFixture(options, seed: 21);
        using var backend = CreateBackend();
        using var layer = fixture.Create<Half>(backend);
        var x = LayerFixture.Rounded<Half>(fixture.Input(batch, total, e));
        var expected = fixture.RoundedTo<Half>().Reference(batch, x, x, x, new LayerMasks { Causal = CausalMask.TopLeft }).Output;

        using var cache = layer.CreateCache(batch, capacity: 2, growable: true);
        int done = 0;
        foreach (int n in new[] { 4, 1, 1, 3 })
        {
            var step = KeyValueCacheTests.Rows(x, batch, total, done, n, e);
            using var input = backend.Upload<Half>(LayerFixture.Narrow<Half>(step));
            using var output = backend.Upload<Half>(TestData.Poison<Half>(step.Length));
            layer.ForwardStep(cache, input, output);
            LayerFixture.AssertClose(
                KeyValueCacheTests.Rows(expected, batch, total, done, n, e), LayerFixture.Widen(output.ToArray()), HalfTolerance,
                $"step at {done}");
            done += n;
        }

        Assert.Equal(total, cache.Length);
    }

    [Fact]
    public void Weights_read_back_as_the_rounded_values()
    {
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(16, 2), seed: 3);
        using var backend = CreateBackend();
        using var layer = fixture.Create<BFloat16>(backend);
        var rounded = fixture.RoundedTo<BFloat16>().Weights;
        var read = layer.ReadPyTorchWeights();
        Assert.Equal(rounded.InProjWeight(), read.InProjWeight());
        Assert.Equal(rounded.InProjBias, read.InProjBias);
        Assert.Equal(rounded.OutProjWeight, read.OutProjWeight);
        Assert.Equal(rounded.OutProjBias, read.OutProjBias);
        Assert.NotEqual(fixture.Weights.QProjWeight, read.QProjWeight);
    }

    [Fact]
    public void Element_types_other_than_float_half_and_bfloat16_are_rejected()
    {
        using var backend = CreateBackend();
        var options = new MultiHeadAttentionOptions(8, 2);
        var error = Assert.Throws<NotSupportedException>(() => new MultiHeadAttention<double>(backend, options));
        Assert.Contains("Double", error.Message, StringComparison.Ordinal);
        Assert.Throws<NotSupportedException>(() => new MultiHeadAttention<int>(backend, options));
    }

    private void SelfAttention<T>(int batch, int length, int modelDim, int heads, double tolerance)
        where T : unmanaged
    {
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(modelDim, heads), seed: length);
        using var backend = CreateBackend();
        using var layer = fixture.Create<T>(backend);
        var x = LayerFixture.Rounded<T>(fixture.Input(batch, length, modelDim));
        var output = TestData.Poison<T>(x.Length);
        layer.Forward(batch, LayerFixture.Narrow<T>(x), output);
        LayerFixture.AssertClose(fixture.RoundedTo<T>().Reference(batch, x, x, x).Output, LayerFixture.Widen(output), tolerance);
    }

    private void CrossAttention<T>(double tolerance)
        where T : unmanaged
    {
        const int batch = 2, lq = 6, lk = 19, e = 32;
        var options = new MultiHeadAttentionOptions(e, 4) { KeyInputDim = 24, ValueInputDim = 40 };
        var fixture = new LayerFixture(options, seed: 8);
        var masks = new LayerMasks
        {
            Causal = CausalMask.BottomRight,
            KeyPadding = TestData.RandomMask(fixture.Random, batch * lk, attendProbability: 0.8),
        };
        using var backend = CreateBackend();
        using var layer = fixture.Create<T>(backend);
        var q = LayerFixture.Rounded<T>(fixture.Input(batch, lq, e));
        var k = LayerFixture.Rounded<T>(fixture.Input(batch, lk, 24));
        var v = LayerFixture.Rounded<T>(fixture.Input(batch, lk, 40));
        var output = TestData.Poison<T>(q.Length);
        var weights = TestData.Poison<float>(batch * lq * lk);
        layer.Forward(batch, LayerFixture.Narrow<T>(q), LayerFixture.Narrow<T>(k), LayerFixture.Narrow<T>(v), output, masks, weights);
        var expected = fixture.RoundedTo<T>().Reference(batch, q, k, v, masks);
        LayerFixture.AssertClose(expected.Output, LayerFixture.Widen(output), tolerance);
        LayerFixture.AssertClose(LayerReference.Averaged(expected.Probabilities, batch, 4), weights, tolerance, "weights");
    }
}
