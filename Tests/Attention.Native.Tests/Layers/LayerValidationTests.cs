using Attention.Native.Cpu;
using Attention.Native.Layers;

namespace Attention.Native.Tests.Layers;

/// <summary>One test per rule of the layers' validation: the exception type, the parameter it names, nothing written.</summary>
public sealed class LayerValidationTests
{
    [Fact]
    public void Model_dim_not_divisible_by_heads_is_rejected()
    {
        using var backend = new CpuBackend();
        var error = Assert.Throws<ArgumentException>(() => new MultiHeadAttention<float>(backend, new MultiHeadAttentionOptions(10, 4)));
        Assert.Equal("options", error.ParamName);
        Assert.Contains("NumHeads", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Heads_not_divisible_by_key_value_heads_is_rejected()
    {
        using var backend = new CpuBackend();
        var error = Assert.Throws<ArgumentException>(() =>
            new MultiHeadAttention<float>(backend, new MultiHeadAttentionOptions(12, 6) { NumKeyValueHeads = 4 }));
        Assert.Contains("NumKeyValueHeads", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("inProjWeight")]
    [InlineData("inProjBias")]
    [InlineData("outProjWeight")]
    [InlineData("outProjBias")]
    public void Weights_of_the_wrong_size_are_rejected_and_nothing_is_loaded(string wrong)
    {
        using var backend = new CpuBackend();
        using var layer = new MultiHeadAttention<float>(backend, new MultiHeadAttentionOptions(8, 2));
        float[] Sized(string name, int length) => new float[name == wrong ? length + 1 : length];
        var error = Assert.Throws<ArgumentException>(() => layer.LoadPyTorchWeights(
            Sized("inProjWeight", 192).Select(_ => 1f).ToArray(), Sized("inProjBias", 24), Sized("outProjWeight", 64), Sized("outProjBias", 8)));
        Assert.Equal(wrong, error.ParamName);
        Assert.All(layer.ReadPyTorchWeights().QProjWeight, value => Assert.Equal(0f, value));
    }

    [Fact]
    public void Keras_kernel_of_the_wrong_size_is_rejected()
    {
        using var backend = new CpuBackend();
        using var layer = new MultiHeadAttention<float>(backend, new MultiHeadAttentionOptions(8, 2));
        var error = Assert.Throws<ArgumentException>(() => layer.LoadKerasWeights(
            new float[64], new float[8], new float[64], new float[8], new float[63], new float[8], new float[64], new float[8]));
        Assert.Equal("valueKernel", error.ParamName);
    }

    [Fact]
    public void Bias_given_to_a_layer_without_biases_is_rejected()
    {
        using var backend = new CpuBackend();
        using var layer = new MultiHeadAttention<float>(backend, new MultiHeadAttentionOptions(8, 2) { UseBias = false });
        var error = Assert.Throws<ArgumentException>(() => layer.LoadPyTorchWeights(new float[192], new float[24], new float[64], []));
        Assert.Equal("inProjBias", error.ParamName);
    }

    [Theory]
    [InlineData("query", 2 * 5 * 8 + 1, 2 * 7 * 6, 2 * 7 * 6)]   // query not [B, L, E]
    [InlineData("key", 2 * 5 * 8, 2 * 7 * 6 + 1, 2 * 7 * 6)]     // key of a wrong feature size
    [InlineData("value", 2 * 5 * 8, 2 * 7 * 6, 2 * 6 * 6)]       // value of another length than key
    public void Inputs_that_do_not_fit_are_rejected_and_nothing_is_written(string wrong, int queryLength, int keyLength, int valueLength)
    {
        using var backend = new CpuBackend();
        using var layer = new MultiHeadAttention<float>(backend, new MultiHeadAttentionOptions(8, 2) { KeyInputDim = 6, ValueInputDim = 6 });
        var output = TestData.Poison<float>(2 * 5 * 8);
        var error = Assert.Throws<ArgumentException>(() =>
            layer.Forward(2, new float[queryLength], new float[keyLength], new float[valueLength], output));
        Assert.Equal(wrong, error.ParamName);
        Assert.All(output, value => Assert.True(float.IsNaN(value)));
    }

    [Fact]
    public void Batch_mismatch_between_query_and_key_is_rejected()
    {
        using var backend = new CpuBackend();
        using var layer = new MultiHeadAttention<float>(backend, new MultiHeadAttentionOptions(8, 2));
        // Query of 4 sequences, key of 3 sequences (length 5) with B = 4: 3·5·8 is not a multiple of 4·8.
        var error = Assert.Throws<ArgumentException>(() =>
            layer.Forward(4, new float[4 * 5 * 8], new float[3 * 5 * 8], new float[3 * 5 * 8], new float[4 * 5 * 8]));
        Assert.Equal("key", error.ParamName);
    }

    [Fact]
    public void Wrong_output_or_weights_size_and_bad_masks_are_rejected()
    {
        using var backend = new CpuBackend();
        using var layer = new MultiHeadAttention<float>(backend, new MultiHeadAttentionOptions(8, 2));
        var x = new float[2 * 3 * 8];
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => layer.Forward(2, x, new float[x.Length - 1])).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => layer.Forward(2, x, new float[x.Length], weights: new float[5])).ParamName);
        var padding = new LayerMasks { KeyPadding = new bool[5] };
        Assert.Equal("masks", Assert.Throws<ArgumentException>(() => layer.Forward(2, x, new float[x.Length], padding)).ParamName);
        var mask = new LayerMasks { AttentionMask = new bool[7] };
        Assert.Contains("AttentionMask", Assert.Throws<ArgumentException>(() => layer.Forward(2, x, new float[x.Length], mask)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Self_attention_needs_equal_input_dims()
    {
        using var backend = new CpuBackend();
        using var layer = new MultiHeadAttention<float>(backend, new MultiHeadAttentionOptions(8, 2) { KeyInputDim = 4 });
        Assert.Equal("key", Assert.Throws<ArgumentException>(() => layer.Forward(1, new float[8], new float[8])).ParamName);
    }

    [Fact]
    public void Head_dim_beyond_the_cpu_limit_is_rejected_before_a_decoding_step_appends()
    {
        // KeyDim 16385 passes the layer's own checks; the CPU backend's limit on head dims must stop the step before
        // the cache grows or lengthens.
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 1 });
        using var layer = new MultiHeadAttention<float>(backend, new MultiHeadAttentionOptions(4, 1) { KeyDim = 16385, ValueDim = 2 });
        using var cache = layer.CreateCache(batch: 1, capacity: 1, growable: true);
        using var input = backend.Upload<float>(new float[] { 1, 2, 3, 4 });
        using var output = backend.Upload<float>(TestData.Poison<float>(4));
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => layer.ForwardStep(cache, input, output));
        Assert.Equal("shape", error.ParamName);
        Assert.Contains("shape.HeadDim", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, cache.Length);
        Assert.Equal(1, cache.Capacity);
        Assert.All(output.ToArray(), value => Assert.True(float.IsNaN(value)));
    }

    [Fact]
    public void Tensor_of_another_backend_is_rejected()
    {
        using var backend = new CpuBackend();
        using var other = new CpuBackend();
        using var layer = new MultiHeadAttention<float>(backend, new MultiHeadAttentionOptions(8, 2));
        using var foreign = other.Allocate<float>(8);
        using var output = backend.Allocate<float>(8);
        Assert.Equal("query", Assert.Throws<ArgumentException>(() => layer.Forward(1, foreign, output)).ParamName);
    }
}
