using Attention.Native.Cpu;
using Attention.Native.Cpu.Decode;
using Attention.Native.Layers;

namespace Attention.Native.Tests.Layers;

/// <summary>
/// <see cref="KeyValueCacheStorage.Int8"/> caches: decoding steps (on the CPU through the decode kernel's int8 rows, and
/// through the dequantised cache for steps of more than four tokens or with attention weights; on CUDA through the
/// cache dequantised on the GPU) within the quantisation's error of the full causal float64 recomputation, rows stored
/// as the element cache's projections quantised by <see cref="Int8Quantizer"/> bit for bit (on either backend), growing,
/// and the options' checks. Run on each backend by the classes below.
/// </summary>
public abstract class Int8KeyValueCacheTests
{
    /// <summary>Relative error against the unquantised float64 result that the tests allow (docs/layers.md).</summary>
    private const double Int8Tolerance = 1e-2;

    protected abstract AttentionBackend CreateBackend();

    [Theory]
    [InlineData(4, 4, false, new[] { 3, 1, 1, 2, 1 })]   // a prompt, then tokens
    [InlineData(8, 2, true, new[] { 1, 1, 1, 1, 1, 1 })] // GQA, token by token, cache grows from 2
    [InlineData(4, 1, true, new[] { 5, 4, 1 })]          // MQA, a step above the decode kernel's 4 (dequantised)
    public void Steps_stay_within_the_int8_error_of_full_causal_recomputation(int heads, int kvHeads, bool growable, int[] steps)
    {
        const int batch = 2, e = 32;
        int total = steps.Sum();
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(e, heads) { NumKeyValueHeads = kvHeads, KeyDim = 8 }, seed: 40 + total);
        using var backend = CreateBackend();
        using var layer = fixture.Create(backend);
        var x = fixture.Input(batch, total, e);
        var expected = fixture.Reference(batch, x, x, x, new LayerMasks { Causal = CausalMask.TopLeft }).Output;

        using var cache = layer.CreateCache(batch, capacity: growable ? 2 : total, growable, KeyValueCacheStorage.Int8);
        Assert.Equal(KeyValueCacheStorage.Int8, cache.Storage);
        LayerFixture.AssertSteps(backend, layer, cache, x, expected, total, steps, Int8Tolerance);
        Assert.True(cache.Capacity >= total);
    }

    [Fact]
    public void Half_layer_steps_stay_within_the_int8_error()
    {
        const int batch = 2, e = 32, total = 6;
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(e, 4) { NumKeyValueHeads = 2 }, seed: 8);
        using var backend = CreateBackend();
        using var layer = fixture.Create<Half>(backend);
        var x = LayerFixture.Rounded<Half>(fixture.Input(batch, total, e));
        var expected = fixture.RoundedTo<Half>().Reference(batch, x, x, x, new LayerMasks { Causal = CausalMask.TopLeft }).Output;
        using var cache = layer.CreateCache(batch, capacity: total, storage: KeyValueCacheStorage.Int8);
        LayerFixture.AssertSteps(backend, layer, cache, x, expected, total, [3, 1, 2], Int8Tolerance);
    }

    /// <summary>
    /// The same steps through an element cache and an int8 cache of the same layer: the int8 cache holds exactly the
    /// element cache's projections quantised (<see cref="Int8Quantizer"/>), one scale per (sequence, position, KV head).
    /// </summary>
    [Fact]
    public unsafe void Stored_rows_are_the_projections_quantised()
    {
        const int batch = 2, e = 24, total = 7, kvHeads = 3;
        var options = new MultiHeadAttentionOptions(e, 6) { NumKeyValueHeads = kvHeads };
        var fixture = new LayerFixture(options, seed: 9);
        using var backend = CreateBackend();
        using var layer = fixture.Create(backend);
        using var element = layer.CreateCache(batch, capacity: total);
        using var int8 = layer.CreateCache(batch, capacity: 1, growable: true, storage: KeyValueCacheStorage.Int8);
        var x = fixture.Input(batch, total, e);
        foreach ((int start, int n) in new[] { (0, 5), (5, 1), (6, 1) })
        {
            using var input = backend.Upload<float>(KeyValueCacheTests.Rows(x, batch, total, start, n, e));
            using var output = backend.Allocate<float>(batch * n * e);
            layer.ForwardStep(element, input, output);
            layer.ForwardStep(int8, input, output);
        }

        var rows = int8.ByteRows!;
        var stored = ByteCacheContents.Read(rows);
        int dim = layer.KeyDim;
        var keys = element.Keys!.ToArray();
        var values = element.Values!.ToArray();
        var quantized = new sbyte[dim];
        fixed (float* k = keys)
        fixed (float* v = values)
        fixed (sbyte* q = quantized)
        {
            for (int b = 0; b < batch; b++)
            {
                for (int t = 0; t < total; t++)
                {
                    for (int h = 0; h < kvHeads; h++)
                    {
                        long source = ((((long)b * element.Capacity) + t) * kvHeads * dim) + (h * dim);
                        long target = ((((long)b * rows.Capacity) + t) * kvHeads * dim) + (h * dim);
                        long scale = (((long)b * rows.Capacity) + t) * kvHeads + h;
                        Assert.Equal(Int8Quantizer.QuantizeRow(k + source, q, dim), stored.KeyScales[scale]);
                        Assert.Equal(quantized, stored.Keys.AsSpan((int)target, dim).ToArray());
                        Assert.Equal(Int8Quantizer.QuantizeRow(v + source, q, dim), stored.ValueScales[scale]);
                        Assert.Equal(quantized, stored.Values.AsSpan((int)target, dim).ToArray());
                    }
                }
            }
        }
    }

    /// <summary>Attention weights are not read from int8 rows: the step dequantises the cache and takes the tiled kernel.</summary>
    [Fact]
    public void Steps_with_attention_weights_stay_within_the_int8_error()
    {
        const int batch = 1, e = 16, total = 4;
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(e, 2), seed: 12);
        using var backend = CreateBackend();
        using var layer = fixture.Create(backend);
        var x = fixture.Input(batch, total, e);
        var reference = fixture.Reference(batch, x, x, x, new LayerMasks { Causal = CausalMask.TopLeft });
        using var cache = layer.CreateCache(batch, capacity: total, storage: KeyValueCacheStorage.Int8);
        using var prompt = backend.Upload<float>(KeyValueCacheTests.Rows(x, batch, total, 0, total - 1, e));
        using var promptOutput = backend.Allocate<float>((total - 1) * e);
        layer.ForwardStep(cache, prompt, promptOutput);
        using var token = backend.Upload<float>(KeyValueCacheTests.Rows(x, batch, total, total - 1, 1, e));
        using var output = backend.Upload<float>(TestData.Poison<float>(e));
        using var weights = backend.Upload<float>(TestData.Poison<float>(total));
        layer.ForwardStep(cache, token, output, weights: weights);
        LayerFixture.AssertClose(KeyValueCacheTests.Rows(reference.Output, batch, total, total - 1, 1, e), output.ToArray(), Int8Tolerance);
        var averaged = LayerReference.Averaged(reference.Probabilities, batch, heads: 2);
        LayerFixture.AssertClose(KeyValueCacheTests.Rows(averaged, batch, total, total - 1, 1, total), weights.ToArray(),
            Int8Tolerance, "weights");
    }

    [Fact]
    public void Undefined_storage_is_rejected()
    {
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(8, 2), seed: 1);
        using var backend = CreateBackend();
        using var layer = fixture.Create(backend);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => layer.CreateCache(1, 4, storage: (KeyValueCacheStorage)7));
        Assert.Equal("storage", error.ParamName);
    }
}

/// <summary>The int8 cache tests on the CPU backend (two threads).</summary>
public sealed class CpuInt8KeyValueCacheTests : Int8KeyValueCacheTests
{
    protected override AttentionBackend CreateBackend() => new CpuBackend(new CpuBackendOptions { ThreadCount = 2 });
}

/// <summary>The int8 cache tests on the CUDA backend: the cache in device memory, quantised and dequantised on the GPU.</summary>
[Trait("Device", "Cuda")]
public sealed class CudaInt8KeyValueCacheTests : Int8KeyValueCacheTests
{
    protected override AttentionBackend CreateBackend() => LayerTestBackends.Cuda();
}

/// <summary>An 8-bit cache's bytes and scales copied to the host, from host or device memory.</summary>
internal sealed record ByteCacheContents(sbyte[] Keys, sbyte[] Values, float[] KeyScales, float[] ValueScales)
{
    public static unsafe ByteCacheContents Read(ByteCacheRows rows)
    {
        long positions = (long)rows.Batch * rows.Capacity;
        var contents = new ByteCacheContents(
            new sbyte[positions * rows.KeyRow], new sbyte[positions * rows.ValueRow], new float[rows.ScaleCount],
            new float[rows.ScaleCount]);
        if (rows.Device is { } device)
        {
            device.Synchronize();
            device.Stream.CopyToHost<sbyte>(contents.Keys, rows.DeviceKeys.Bytes.Address);
            device.Stream.CopyToHost<sbyte>(contents.Values, rows.DeviceValues.Bytes.Address);
            device.Stream.CopyToHost<float>(contents.KeyScales, rows.DeviceKeys.Scales.Address);
            device.Stream.CopyToHost<float>(contents.ValueScales, rows.DeviceValues.Scales.Address);
            device.Synchronize();
            return contents;
        }

        new ReadOnlySpan<sbyte>(rows.Keys, contents.Keys.Length).CopyTo(contents.Keys);
        new ReadOnlySpan<sbyte>(rows.Values, contents.Values.Length).CopyTo(contents.Values);
        new ReadOnlySpan<float>(rows.KeyScales, contents.KeyScales.Length).CopyTo(contents.KeyScales);
        new ReadOnlySpan<float>(rows.ValueScales, contents.ValueScales.Length).CopyTo(contents.ValueScales);
        return contents;
    }
}
