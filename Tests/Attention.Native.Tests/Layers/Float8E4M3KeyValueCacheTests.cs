using Attention.Native.Cpu;
using Attention.Native.Cpu.Decode;
using Attention.Native.Layers;

namespace Attention.Native.Tests.Layers;

/// <summary>
/// <see cref="KeyValueCacheStorage.Float8E4M3"/> caches, contiguous and paged: decoding steps (on the CPU through the
/// decode kernel's e4m3 rows, and through the dequantised cache for steps of more than four tokens; on CUDA through the
/// 8-bit split-KV kernel for Half layers and the cache dequantised on the GPU otherwise) within the quantisation's error
/// of the full causal float64 recomputation, with scales given (calibrated over the whole sequence) or taken at the
/// first append; rows stored as the element cache's projections encoded by <see cref="Float8E4M3Quantizer"/> bit for
/// bit on either backend, saturating where a given scale is too small; growing; and the scales' checks. Run on each
/// backend by the classes below.
/// </summary>
public abstract class Float8E4M3KeyValueCacheTests
{
    /// <summary>
    /// Relative (L2) error against the unquantised float64 result that the tests allow: 3 mantissa bits put each element
    /// within 2^−4 of itself (docs/layers.md); the steps here measure about 2 %.
    /// </summary>
    private const double E4M3Tolerance = 5e-2;

    protected abstract AttentionBackend CreateBackend();

    [Theory]
    [InlineData(4, 4, false, false, new[] { 3, 1, 1, 2, 1 })]  // a prompt, then tokens; first-append scales
    [InlineData(4, 4, false, true, new[] { 3, 1, 1, 2, 1 })]   // the same with calibrated scales
    [InlineData(8, 2, true, false, new[] { 2, 1, 1, 1, 1, 1 })] // GQA, token by token, cache grows from 2
    [InlineData(4, 1, true, true, new[] { 5, 4, 1 })]           // MQA, a step above the decode kernel's 4 (dequantised)
    public void Steps_stay_within_the_e4m3_error_of_full_causal_recomputation(
        int heads, int kvHeads, bool growable, bool givenScales, int[] steps)
    {
        const int batch = 2, e = 32;
        int total = steps.Sum();
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(e, heads) { NumKeyValueHeads = kvHeads, KeyDim = 8 }, seed: 140 + total);
        using var backend = CreateBackend();
        using var layer = fixture.Create(backend);
        var x = fixture.Input(batch, total, e);
        var expected = fixture.Reference(batch, x, x, x, new LayerMasks { Causal = CausalMask.TopLeft }).Output;
        var scales = givenScales ? Calibrated(layer, backend, x, batch, total, 1f) : null;

        using var cache = layer.CreateCache(batch, capacity: growable ? 2 : total, growable, KeyValueCacheStorage.Float8E4M3, scales);
        Assert.Equal(KeyValueCacheStorage.Float8E4M3, cache.Storage);
        LayerFixture.AssertSteps(backend, layer, cache, x, expected, total, steps, E4M3Tolerance);
        Assert.True(cache.Capacity >= total);
    }

    /// <summary>A Half layer: on CUDA its steps read the e4m3 rows in the 8-bit split-KV kernel (one scale a head).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Half_layer_steps_stay_within_the_e4m3_error(bool givenScales)
    {
        const int batch = 2, e = 32, total = 6;
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(e, 4) { NumKeyValueHeads = 2 }, seed: 18);
        using var backend = CreateBackend();
        using var layer = fixture.Create<Half>(backend);
        var x = LayerFixture.Rounded<Half>(fixture.Input(batch, total, e));
        var expected = fixture.RoundedTo<Half>().Reference(batch, x, x, x, new LayerMasks { Causal = CausalMask.TopLeft }).Output;
        var scales = givenScales ? new KeyValueScales([0.01f, 0.02f], [0.015f, 0.01f]) : null;
        using var cache = layer.CreateCache(batch, capacity: total, storage: KeyValueCacheStorage.Float8E4M3, scales: scales);
        LayerFixture.AssertSteps(backend, layer, cache, x, expected, total, [3, 1, 2], E4M3Tolerance);
    }

    /// <summary>
    /// The same steps through an element cache and an e4m3 cache of the same layer: the e4m3 cache holds exactly the
    /// element cache's projections encoded with one scale per KV head — taken from the first append (max|x| / 448 over
    /// its positions), or given, where a quarter of the calibrated scale saturates the largest elements at ±448.
    /// </summary>
    [Theory]
    [InlineData(0f)]
    [InlineData(1f)]
    [InlineData(0.25f)]
    public unsafe void Stored_rows_are_the_projections_encoded(float givenFactor)
    {
        const int batch = 2, e = 24, total = 7, kvHeads = 3;
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(e, 6) { NumKeyValueHeads = kvHeads }, seed: 19);
        using var backend = CreateBackend();
        using var layer = fixture.Create(backend);
        var x = fixture.Input(batch, total, e);
        var given = givenFactor > 0 ? Calibrated(layer, backend, x, batch, total, givenFactor) : null;
        using var element = layer.CreateCache(batch, capacity: total);
        using var e4m3 = layer.CreateCache(batch, capacity: 1, growable: true, storage: KeyValueCacheStorage.Float8E4M3, scales: given);
        var steps = new[] { (0, 5), (5, 1), (6, 1) };
        foreach ((int start, int n) in steps)
        {
            using var input = backend.Upload<float>(KeyValueCacheTests.Rows(x, batch, total, start, n, e));
            using var output = backend.Allocate<float>(batch * n * e);
            layer.ForwardStep(element, input, output);
            layer.ForwardStep(e4m3, input, output);
        }

        var rows = e4m3.ByteRows!;
        var stored = ByteCacheContents.Read(rows);
        int dim = layer.KeyDim;
        var keys = element.Keys!.ToArray();
        var values = element.Values!.ToArray();
        var keyScales = given?.Keys ?? FirstAppendScales(keys, element.Capacity, steps[0].Item2, batch, kvHeads, dim);
        var valueScales = given?.Values ?? FirstAppendScales(values, element.Capacity, steps[0].Item2, batch, kvHeads, dim);
        Assert.Equal(keyScales, stored.KeyScales);
        Assert.Equal(valueScales, stored.ValueScales);
        int saturated = 0;
        for (int b = 0; b < batch; b++)
        {
            for (int t = 0; t < total; t++)
            {
                for (int h = 0; h < kvHeads; h++)
                {
                    for (int i = 0; i < dim; i++)
                    {
                        long source = ((((long)b * element.Capacity) + t) * kvHeads * dim) + (h * dim) + i;
                        long target = ((((long)b * rows.Capacity) + t) * kvHeads * dim) + (h * dim) + i;
                        byte key = Float8E4M3Quantizer.Encode(keys[source] / keyScales[h]);
                        Assert.True(key == (byte)stored.Keys[target], $"key b{b} t{t} h{h} [{i}]: {(byte)stored.Keys[target]:X2}, expected {key:X2}");
                        Assert.Equal(Float8E4M3Quantizer.Encode(values[source] / valueScales[h]), (byte)stored.Values[target]);
                        saturated += (key & 0x7F) == 0x7E ? 1 : 0;
                    }
                }
            }
        }

        Assert.True(givenFactor is > 0 and < 1 ? saturated > 0 : saturated <= 2 * batch * kvHeads, $"{saturated} saturated keys");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Paged_continuous_batching_stays_within_the_e4m3_error_of_each_sequence_alone(bool givenScales)
    {
        const int e = 16, pageSize = 4;
        int[] totals = [9, 3, 6];
        int[] joins = [0, 0, 2];
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(e, 4) { NumKeyValueHeads = 2, KeyDim = 4 }, seed: 171);
        var inputs = totals.Select(t => fixture.Input(1, t, e)).ToArray();
        var expected = inputs.Select(x => fixture.Reference(1, x, x, x, new LayerMasks { Causal = CausalMask.TopLeft }).Output).ToArray();
        using var backend = CreateBackend();
        using var layer = fixture.Create(backend);
        var scales = givenScales ? new KeyValueScales([0.01f, 0.008f], [0.008f, 0.01f]) : null;
        using var cache = layer.CreatePagedCache(pageSize, pageCount: 8, KeyValueCacheStorage.Float8E4M3, scales);
        Assert.Equal(KeyValueCacheStorage.Float8E4M3, cache.Storage);
        var ids = new int[totals.Length];
        var done = new int[totals.Length];
        var active = new List<int>();
        for (int step = 0; step == 0 || active.Count > 0; step++)
        {
            for (int s = 0; s < totals.Length; s++)
            {
                if (joins[s] == step)
                {
                    ids[s] = cache.AddSequence();
                    active.Add(s);
                }
            }

            // A prompt of three tokens first (the first append, whose scales a cache without given ones takes), then
            // a token per step.
            var order = active.OrderByDescending(s => s).ToArray();
            var counts = order.Select(s => step == 0 ? 3 : 1).ToArray();
            var rows = order.SelectMany((s, i) => inputs[s].Skip(done[s] * e).Take(counts[i] * e)).ToArray();
            using var input = backend.Upload<float>(rows);
            using var output = backend.Upload<float>(TestData.Poison<float>(rows.Length));
            layer.ForwardPagedStep(cache, order.Select(s => ids[s]).ToArray(), counts, input, output);
            var result = output.ToArray();
            int row = 0;
            for (int i = 0; i < order.Length; i++)
            {
                int s = order[i];
                LayerFixture.AssertClose(
                    expected[s].Skip(done[s] * e).Take(counts[i] * e).ToArray(), result.Skip(row * e).Take(counts[i] * e).ToArray(),
                    E4M3Tolerance, $"sequence {s} positions from {done[s]} at step {step}");
                row += counts[i];
                done[s] += counts[i];
                Assert.Equal(done[s], cache.LengthOf(ids[s]));
                if (done[s] == totals[s])
                {
                    cache.RemoveSequence(ids[s]);
                    active.Remove(s);
                }
            }
        }
    }

    [Fact]
    public void Scales_are_checked_naming_the_parameter()
    {
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(8, 4) { NumKeyValueHeads = 2 }, seed: 3);
        using var backend = CreateBackend();
        using var layer = fixture.Create(backend);
        var good = new KeyValueScales([1f, 2f], [1f, 1f]);
        foreach (var bad in new[]
        {
            new KeyValueScales([1f], [1f, 1f]),
            new KeyValueScales([1f, 1f], [1f, 1f, 1f]),
            new KeyValueScales([1f, 0f], [1f, 1f]),
            new KeyValueScales([1f, 1f], [-1f, 1f]),
            new KeyValueScales([float.NaN, 1f], [1f, 1f]),
            new KeyValueScales([1f, 1f], [1f, float.PositiveInfinity]),
            new KeyValueScales(null!, [1f, 1f]),
        })
        {
            Assert.Equal("scales", Assert.Throws<ArgumentException>(() => layer.CreateCache(1, 4, storage: KeyValueCacheStorage.Float8E4M3, scales: bad)).ParamName);
            Assert.Equal("scales", Assert.Throws<ArgumentException>(() => layer.CreatePagedCache(4, 4, KeyValueCacheStorage.Float8E4M3, bad)).ParamName);
        }

        Assert.Equal("scales", Assert.Throws<ArgumentException>(() => layer.CreateCache(1, 4, storage: KeyValueCacheStorage.Int8, scales: good)).ParamName);
        Assert.Equal("scales", Assert.Throws<ArgumentException>(() => layer.CreatePagedCache(4, 4, scales: good)).ParamName);
        using var cache = layer.CreateCache(1, 4, storage: KeyValueCacheStorage.Float8E4M3, scales: good);
        Assert.True(cache.ByteRows!.HasScales);
    }

    /// <summary>
    /// Each KV head's max|x| / 448 over all <paramref name="total"/> positions' projections (from an element cache),
    /// times <paramref name="factor"/>: scales calibrated on the sequence itself.
    /// </summary>
    private static KeyValueScales Calibrated(
        MultiHeadAttention<float> layer, AttentionBackend backend, float[] x, int batch, int total, float factor)
    {
        using var element = layer.CreateCache(batch, capacity: total);
        using var input = backend.Upload<float>(x);
        using var output = backend.Allocate<float>(x.Length);
        layer.ForwardStep(element, input, output);
        int heads = layer.NumKeyValueHeads, dim = layer.KeyDim;
        var keys = FirstAppendScales(element.Keys!.ToArray(), total, total, batch, heads, dim);
        var values = FirstAppendScales(element.Values!.ToArray(), total, total, batch, heads, dim);
        return new(Array.ConvertAll(keys, s => s * factor), Array.ConvertAll(values, s => s * factor));
    }

    /// <summary>Each head's max|x| / 448 over the first <paramref name="count"/> positions of every sequence.</summary>
    private static float[] FirstAppendScales(float[] rows, int capacity, int count, int batch, int heads, int dim)
    {
        var scales = new float[heads];
        for (int h = 0; h < heads; h++)
        {
            float max = 0;
            for (int b = 0; b < batch; b++)
            {
                for (int t = 0; t < count; t++)
                {
                    for (int i = 0; i < dim; i++)
                    {
                        max = MathF.Max(max, MathF.Abs(rows[((((long)b * capacity) + t) * heads * dim) + (h * dim) + i]));
                    }
                }
            }

            scales[h] = max / Float8E4M3Quantizer.Max;
        }

        return scales;
    }
}

/// <summary>The e4m3 cache tests on the CPU backend (two threads).</summary>
[Trait("Isa", "Rerun")]
public sealed class CpuFloat8E4M3KeyValueCacheTests : Float8E4M3KeyValueCacheTests
{
    protected override AttentionBackend CreateBackend() => new CpuBackend(new CpuBackendOptions { ThreadCount = 2 });
}

/// <summary>The e4m3 cache tests on the CUDA backend: the cache in device memory, quantised and dequantised on the GPU.</summary>
[Trait("Device", "Cuda")]
public sealed class CudaFloat8E4M3KeyValueCacheTests : Float8E4M3KeyValueCacheTests
{
    protected override AttentionBackend CreateBackend() => LayerTestBackends.Cuda();
}
