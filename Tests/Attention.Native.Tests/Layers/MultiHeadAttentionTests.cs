using Attention.Native.Layers;

namespace Attention.Native.Tests.Layers;

/// <summary>
/// <see cref="MultiHeadAttention{T}"/> against the float64 <see cref="LayerReference"/> on the backend a subclass
/// creates: self, cross (kdim/vdim ≠ E), GQA/MQA, every mask kind and framework conversion, weights, Keras weights.
/// </summary>
public abstract class MultiHeadAttentionTests
{
    protected abstract AttentionBackend CreateBackend();

    [Theory]
    [InlineData(2, 7, 16, 4, true)]
    [InlineData(3, 5, 12, 3, false)]
    [InlineData(1, 33, 64, 8, true)]
    public void Self_attention_matches_reference(int batch, int length, int modelDim, int heads, bool bias)
    {
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(modelDim, heads) { UseBias = bias }, seed: length);
        using var backend = CreateBackend();
        using var layer = fixture.Create(backend);
        var x = fixture.Input(batch, length, modelDim);
        var output = TestData.Poison<float>(x.Length);
        layer.Forward(batch, x, output);
        LayerFixture.AssertClose(fixture.Reference(batch, x, x, x).Output, output);
    }

    [Fact]
    public void Self_attention_on_tensors_matches_reference()
    {
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(24, 4), seed: 5);
        using var backend = CreateBackend();
        using var layer = fixture.Create(backend);
        var x = fixture.Input(2, 9, 24);
        using var input = backend.Upload<float>(x);
        using var output = backend.Upload<float>(TestData.Poison<float>(x.Length));
        layer.Forward(2, input, output);
        LayerFixture.AssertClose(fixture.Reference(2, x, x, x).Output, output.ToArray());
    }

    /// <summary>Nulls for the optional arguments select self-attention (the cross overload would take the output as its key).</summary>
    [Fact]
    public void Self_attention_with_explicit_null_options_is_self_attention()
    {
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(16, 2), seed: 9);
        using var backend = CreateBackend();
        using var layer = fixture.Create(backend);
        var x = fixture.Input(2, 5, 16);
        var expected = fixture.Reference(2, x, x, x).Output;
        using var input = backend.Upload<float>(x);
        using var output = backend.Upload<float>(TestData.Poison<float>(x.Length));
        layer.Forward(2, input, output, null, null);
        LayerFixture.AssertClose(expected, output.ToArray());
        var spanOutput = TestData.Poison<float>(x.Length);
        layer.Forward(2, x, spanOutput, null, null);
        LayerFixture.AssertClose(expected, spanOutput);
    }

    [Theory]
    [InlineData(12, 3, 5, 7)]
    [InlineData(16, 2, 16, 16)]
    public void Cross_attention_with_other_key_and_value_dims_matches_reference(int modelDim, int heads, int kdim, int vdim)
    {
        var options = new MultiHeadAttentionOptions(modelDim, heads) { KeyInputDim = kdim, ValueInputDim = vdim };
        var fixture = new LayerFixture(options, seed: kdim);
        using var backend = CreateBackend();
        using var layer = fixture.Create(backend);
        var q = fixture.Input(2, 5, modelDim);
        var k = fixture.Input(2, 11, kdim);
        var v = fixture.Input(2, 11, vdim);
        var output = TestData.Poison<float>(q.Length);
        layer.Forward(2, q, k, v, output);
        LayerFixture.AssertClose(fixture.Reference(2, q, k, v).Output, output);
    }

    [Theory]
    [InlineData(8, 2, 6, 5)]  // GQA, explicit head sizes with E not a multiple of H·Dk
    [InlineData(4, 1, 8, 8)]  // MQA
    [InlineData(6, 3, 4, 7)]
    public void Grouped_and_multi_query_attention_match_reference(int heads, int kvHeads, int keyDim, int valueDim)
    {
        var options = new MultiHeadAttentionOptions(20, heads) { NumKeyValueHeads = kvHeads, KeyDim = keyDim, ValueDim = valueDim };
        var fixture = new LayerFixture(options, seed: heads);
        using var backend = CreateBackend();
        using var layer = fixture.Create(backend);
        var x = fixture.Input(2, 10, 20);
        var output = TestData.Poison<float>(x.Length);
        layer.Forward(2, x, output);
        LayerFixture.AssertClose(fixture.Reference(2, x, x, x).Output, output);
    }

    public static TheoryData<string> MaskKinds() =>
        ["key-padding", "key-lengths", "causal-top-left", "causal-bottom-right", "mask-shared", "mask-per-batch",
            "mask-per-head", "bias-additive", "bias-and-padding", "pytorch-key-padding", "pytorch-attn-mask", "keras-mask", "fully-masked-row"];

    [Theory]
    [MemberData(nameof(MaskKinds))]
    public void Every_mask_kind_matches_reference(string kind)
    {
        const int batch = 2, heads = 2, lq = 6, lk = 9, e = 8;
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(e, heads), seed: kind.Length);
        var r = fixture.Random;
        var masks = kind switch
        {
            "key-padding" => new LayerMasks { KeyPadding = WithOneKey(TestData.RandomMask(r, batch * lk), lk) },
            "key-lengths" => new LayerMasks { KeyLengths = new[] { 4, 9 } },
            "causal-top-left" => new LayerMasks { Causal = CausalMask.TopLeft },
            "causal-bottom-right" => new LayerMasks { Causal = CausalMask.BottomRight, KeyLengths = new[] { 7, 9 } },
            "mask-shared" => new LayerMasks { AttentionMask = TestData.RandomMask(r, lq * lk) },
            "mask-per-batch" => new LayerMasks { AttentionMask = TestData.RandomMask(r, batch * lq * lk) },
            "mask-per-head" => new LayerMasks { AttentionMask = TestData.RandomMask(r, batch * heads * lq * lk) },
            "bias-additive" => new LayerMasks { AttentionBias = fixture.Values(batch * lq * lk, 1) },
            "bias-and-padding" => new LayerMasks
            {
                AttentionBias = fixture.Values(lq * lk, 1),
                KeyPadding = WithOneKey(TestData.RandomMask(r, batch * lk), lk),
                AttentionMask = TestData.RandomMask(r, batch * heads * lq * lk),
            },
            // PyTorch's key_padding_mask: true = ignore; here the last three keys of batch 1 are padding.
            "pytorch-key-padding" => new LayerMasks
            {
                KeyPadding = LayerMasks.FromPyTorchKeyPaddingMask([.. new bool[lk], .. new bool[lk - 3], true, true, true]),
            },
            // PyTorch's bool attn_mask: true = not allowed (here: the upper triangle, i.e. causal).
            "pytorch-attn-mask" => new LayerMasks { AttentionMask = LayerMasks.FromPyTorchAttentionMask(UpperTriangle(lq, lk)) },
            "keras-mask" => new LayerMasks { AttentionMask = LayerMasks.FromKerasMask(KerasOnes(r, batch * lq * lk)) },
            "fully-masked-row" => new LayerMasks { AttentionMask = Enumerable.Range(0, lq * lk).Select(i => i >= lk).ToArray() },
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };

        using var backend = CreateBackend();
        using var layer = fixture.Create(backend);
        var q = fixture.Input(batch, lq, e);
        var kv = fixture.Input(batch, lk, e);
        var output = TestData.Poison<float>(q.Length);
        var weights = TestData.Poison<float>(batch * heads * lq * lk);
        layer.Forward(batch, q, kv, kv, output, masks, weights, AttentionWeightsMode.PerHead);
        var expected = fixture.Reference(batch, q, kv, kv, masks);
        LayerFixture.AssertClose(expected.Output, output);
        LayerFixture.AssertClose(expected.Probabilities, weights, what: "weights");
        if (kind == "pytorch-attn-mask")
        {
            // The converted PyTorch mask is exactly the top-left causal mask.
            var causal = fixture.Reference(batch, q, kv, kv, new LayerMasks { Causal = CausalMask.TopLeft });
            LayerFixture.AssertClose(causal.Output, output);
        }
    }

    [Fact]
    public void Framework_mask_conversions_flip_or_keep_the_convention()
    {
        Assert.Equal([false, true, false], LayerMasks.FromPyTorchKeyPaddingMask([true, false, true]));
        Assert.Equal([true, false], LayerMasks.FromPyTorchAttentionMask([false, true]));
        Assert.Equal([true, false, true], LayerMasks.FromKerasMask([1f, 0f, 2f]));
    }

    [Theory]
    [InlineData(AttentionWeightsMode.AveragedOverHeads)]
    [InlineData(AttentionWeightsMode.PerHead)]
    public void Attention_weights_match_reference(AttentionWeightsMode mode)
    {
        const int batch = 2, heads = 4, lq = 5, lk = 7, e = 16;
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(e, heads), seed: 11);
        using var backend = CreateBackend();
        using var layer = fixture.Create(backend);
        var q = fixture.Input(batch, lq, e);
        var kv = fixture.Input(batch, lk, e);
        var output = TestData.Poison<float>(q.Length);
        var weights = TestData.Poison<float>(batch * (mode == AttentionWeightsMode.PerHead ? heads : 1) * lq * lk);
        var masks = new LayerMasks { Causal = CausalMask.BottomRight };
        layer.Forward(batch, q, kv, kv, output, masks, weights, mode);
        var expected = fixture.Reference(batch, q, kv, kv, masks);
        var probabilities = mode == AttentionWeightsMode.PerHead ? expected.Probabilities : LayerReference.Averaged(expected.Probabilities, batch, heads);
        LayerFixture.AssertClose(probabilities, weights, what: "weights");
        LayerFixture.AssertClose(expected.Output, output);
    }

    [Fact]
    public void Keras_weights_load_and_read_back()
    {
        var options = new MultiHeadAttentionOptions(12, 3) { NumKeyValueHeads = 3, KeyDim = 5, ValueDim = 6, KeyInputDim = 7, ValueInputDim = 9 };
        var fixture = new LayerFixture(options, seed: 3);
        using var backend = CreateBackend();
        using var reference = fixture.Create(backend);
        var keras = reference.ReadKerasWeights();
        using var layer = new MultiHeadAttention<float>(backend, options);
        layer.LoadKerasWeights(
            keras.QueryKernel, keras.QueryBias, keras.KeyKernel, keras.KeyBias, keras.ValueKernel, keras.ValueBias, keras.OutputKernel, keras.OutputBias);

        // Keras' query kernel is [E, H, Dk]: element (e, h, d) is PyTorch's q_proj_weight[h·Dk + d, e].
        Assert.Equal(fixture.Weights.QProjWeight[(1 * 5 + 2) * 12 + 4], keras.QueryKernel[(4 * 3 + 1) * 5 + 2]);
        var back = layer.ReadPyTorchWeights();
        Assert.Equal(fixture.Weights.QProjWeight, back.QProjWeight);
        Assert.Equal(fixture.Weights.KProjWeight, back.KProjWeight);
        Assert.Equal(fixture.Weights.VProjWeight, back.VProjWeight);
        Assert.Equal(fixture.Weights.InProjBias, back.InProjBias);
        Assert.Equal(fixture.Weights.OutProjWeight, back.OutProjWeight);
        Assert.Equal(fixture.Weights.OutProjBias, back.OutProjBias);

        var q = fixture.Input(2, 4, 12);
        var k = fixture.Input(2, 6, 7);
        var v = fixture.Input(2, 6, 9);
        var output = TestData.Poison<float>(q.Length);
        layer.Forward(2, q, k, v, output);
        LayerFixture.AssertClose(fixture.Reference(2, q, k, v).Output, output);
    }

    [Fact]
    public void Packed_pytorch_in_projection_loads_and_reads_back()
    {
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(16, 4), seed: 8);
        using var backend = CreateBackend();
        using var layer = new MultiHeadAttention<float>(backend, fixture.Options);
        var w = fixture.Weights;
        layer.LoadPyTorchWeights(w.InProjWeight(), w.InProjBias, w.OutProjWeight, w.OutProjBias);
        Assert.Equal(w.InProjWeight(), layer.ReadPyTorchWeights().InProjWeight());
        var x = fixture.Input(1, 6, 16);
        var output = TestData.Poison<float>(x.Length);
        layer.Forward(1, x, output);
        LayerFixture.AssertClose(fixture.Reference(1, x, x, x).Output, output);
    }

    /// <summary>
    /// Weights loaded again after forward passes (which keep the projections packed on the CPU) are the ones the next
    /// passes use: packed in-projection, separate Q/K/V (cross-attention) and Keras loads, self- and cross-attention.
    /// </summary>
    [Fact]
    public void Weights_loaded_after_a_forward_pass_are_the_ones_used()
    {
        var options = new MultiHeadAttentionOptions(16, 4);
        var first = new LayerFixture(options, seed: 21);
        var second = new LayerFixture(options, seed: 22);
        var third = new LayerFixture(options, seed: 23);
        using var backend = CreateBackend();
        using var layer = first.Create(backend);
        var x = first.Input(2, 9, 16);
        var kv = first.Input(2, 7, 16);
        var output = TestData.Poison<float>(x.Length);
        layer.Forward(2, x, output);
        LayerFixture.AssertClose(first.Reference(2, x, x, x).Output, output);
        layer.Forward(2, x, kv, kv, output);
        LayerFixture.AssertClose(first.Reference(2, x, kv, kv).Output, output);

        var w = second.Weights;
        layer.LoadPyTorchWeights(w.InProjWeight(), w.InProjBias, w.OutProjWeight, w.OutProjBias);
        output = TestData.Poison<float>(x.Length);
        layer.Forward(2, x, output);
        LayerFixture.AssertClose(second.Reference(2, x, x, x).Output, output);
        output = TestData.Poison<float>(x.Length);
        layer.Forward(2, x, kv, kv, output);
        LayerFixture.AssertClose(second.Reference(2, x, kv, kv).Output, output);

        using var thirdLayer = third.Create(backend);
        var keras = thirdLayer.ReadKerasWeights();
        layer.LoadKerasWeights(
            keras.QueryKernel, keras.QueryBias, keras.KeyKernel, keras.KeyBias, keras.ValueKernel, keras.ValueBias, keras.OutputKernel, keras.OutputBias);
        output = TestData.Poison<float>(x.Length);
        layer.Forward(2, x, kv, kv, output);
        LayerFixture.AssertClose(third.Reference(2, x, kv, kv).Output, output);
        output = TestData.Poison<float>(x.Length);
        layer.Forward(2, x, output);
        LayerFixture.AssertClose(third.Reference(2, x, x, x).Output, output);
    }

    private static bool[] WithOneKey(bool[] padding, int lk)
    {
        for (int b = 0; b < padding.Length / lk; b++)
        {
            padding[b * lk] = true; // every sequence keeps a key, so no row is empty by accident
        }

        return padding;
    }

    private static bool[] UpperTriangle(int lq, int lk)
    {
        var mask = new bool[lq * lk];
        for (int i = 0; i < lq; i++)
        {
            for (int j = i + 1; j < lk; j++)
            {
                mask[(i * lk) + j] = true;
            }
        }

        return mask;
    }

    private static float[] KerasOnes(Random random, int length) =>
        TestData.RandomMask(random, length).Select(attend => attend ? 1f : 0f).ToArray();
}
