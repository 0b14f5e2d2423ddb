using Attention.Native.Cpu;
using Attention.Native.Layers;

namespace Attention.Native.Tests.Layers;

/// <summary>
/// Steps over a <see cref="PagedKeyValueCache{T}"/> where each sequence takes its own number of new tokens (a prompt's
/// prefill beside other sequences' decoding, chunks of a prompt after cached positions): every row equals the float64
/// reference of one causal forward over the sequence's whole history, with element pages; with int8 pages, within the
/// quantisation's error of that reference and within float error of the reference on the dequantised rows the pool
/// holds. Groups of equal counts that are not consecutive in the call, the decode kernel's and the tiled kernel's
/// counts, and the layer's sinks are all covered. Run on each backend by the classes below.
/// </summary>
public abstract class PagedPrefillTests
{
    /// <summary>Relative error against the unquantised float64 result allowed for int8 pages (docs/layers.md).</summary>
    private const double Int8Tolerance = 1e-2;

    // (sequence, new tokens) per step: prefills of 7 and 3, then a prefill of 5 beside two decoding steps, then count-1
    // entries split around a count-2 entry (gathered), then chunks of 2 and 6 after cached positions.
    private static readonly (int Sequence, int Tokens)[][] Schedule =
    [
        [(0, 7), (1, 3)],
        [(2, 5), (0, 1), (1, 1)],
        [(0, 1), (2, 2), (1, 1), (3, 5)],
        [(1, 2), (2, 6), (0, 1), (3, 1)],
    ];

    [Theory]
    [InlineData(4, 2, 4, false, false)]  // GQA, pages of 4
    [InlineData(4, 1, 16, false, true)]  // MQA, pages of 16, int8
    [InlineData(2, 2, 3, true, false)]   // MHA, pages of 3, sinks
    [InlineData(4, 2, 5, true, true)]    // GQA, pages of 5, sinks, int8
    public void Mixed_prefill_and_decode_steps_equal_one_causal_forward(int heads, int kvHeads, int pageSize, bool withSinks, bool int8) =>
        RunSchedule(heads, kvHeads, pageSize, withSinks, int8);

    [Theory]
    [InlineData(KeyValueCacheStorage.Element, 3e-3)]
    [InlineData(KeyValueCacheStorage.Int8, 1e-2)]
    public void Half_layer_prefill_and_decode_equal_one_causal_forward(KeyValueCacheStorage storage, double tolerance) =>
        RunHalf(storage, tolerance);

    protected abstract AttentionBackend CreateBackend();

    /// <summary>
    /// Steps of sequence <paramref name="id"/> taking <paramref name="steps"/> (first row, token count) of
    /// <paramref name="x"/> (<c>[L, e]</c>, rounded to <typeparamref name="TElement"/>), each output (poisoned first)
    /// within <paramref name="tolerance"/> of the same rows of <paramref name="expected"/>.
    /// </summary>
    protected static void StepOneSequence<TElement>(
        AttentionBackend backend, MultiHeadAttention<TElement> layer, PagedKeyValueCache<TElement> cache, int id, float[] x,
        double[] expected, int e, (int Start, int Count)[] steps, double tolerance)
        where TElement : unmanaged
    {
        foreach ((int start, int n) in steps)
        {
            using var input = backend.Upload<TElement>(LayerFixture.Narrow<TElement>(x.AsSpan(start * e, n * e).ToArray()));
            using var output = backend.Upload<TElement>(TestData.Poison<TElement>(n * e));
            layer.ForwardPagedStep(cache, [id], [n], input, output);
            LayerFixture.AssertClose(expected.AsSpan(start * e, n * e).ToArray(), LayerFixture.Widen(output.ToArray()), tolerance, $"step at {start}");
        }
    }

    /// <summary>
    /// Runs <see cref="Schedule"/> on a layer of the given heads and pages and checks every row against one causal
    /// forward per sequence (and, for int8 pages, against the forward on the dequantised rows the pool holds).
    /// </summary>
    protected void RunSchedule(int heads, int kvHeads, int pageSize, bool withSinks, bool int8)
    {
        const int e = 16;
        int sequences = 4;
        var totals = new int[sequences];
        foreach (var (s, tokens) in Schedule.SelectMany(step => step))
        {
            totals[s] += tokens;
        }

        var fixture = new LayerFixture(new MultiHeadAttentionOptions(e, heads) { NumKeyValueHeads = kvHeads, KeyDim = 4 }, seed: 90 + pageSize);
        float[]? sinks = withSinks ? TestData.Random<float>(fixture.Random, heads, 2f) : null;
        var inputs = totals.Select(t => fixture.Input(1, t, e)).ToArray();
        var expected = inputs.Select(x => fixture.Reference(1, x, x, x, new LayerMasks { Causal = CausalMask.TopLeft }, sinks).Output).ToArray();
        using var backend = CreateBackend();
        using var layer = fixture.Create(backend);
        if (sinks is not null)
        {
            layer.Sinks = sinks;
        }

        int pages = totals.Sum(t => (t + pageSize - 1) / pageSize);
        using var cache = layer.CreatePagedCache(pageSize, pages, int8 ? KeyValueCacheStorage.Int8 : KeyValueCacheStorage.Element);
        Assert.Equal(int8 ? KeyValueCacheStorage.Int8 : KeyValueCacheStorage.Element, cache.Storage);
        var ids = Enumerable.Range(0, sequences).Select(_ => cache.AddSequence()).ToArray();
        var done = new int[sequences];
        var results = totals.Select(t => new float[t * e]).ToArray();
        foreach (var step in Schedule)
        {
            var rows = step.SelectMany(entry => inputs[entry.Sequence].Skip(done[entry.Sequence] * e).Take(entry.Tokens * e)).ToArray();
            using var input = backend.Upload<float>(rows);
            using var output = backend.Upload<float>(TestData.Poison<float>(rows.Length));
            layer.ForwardPagedStep(cache, step.Select(entry => ids[entry.Sequence]).ToArray(), step.Select(entry => entry.Tokens).ToArray(), input, output);
            var result = output.ToArray();
            int row = 0;
            foreach (var (s, tokens) in step)
            {
                var what = $"sequence {s} positions {done[s]}..{done[s] + tokens - 1}";
                var actual = result.AsSpan(row * e, tokens * e).ToArray();
                var reference = expected[s].AsSpan(done[s] * e, tokens * e).ToArray();
                LayerFixture.AssertClose(reference, actual, int8 ? Int8Tolerance : 1e-5, what);
                actual.CopyTo(results[s], done[s] * e);
                row += tokens;
                done[s] += tokens;
                Assert.Equal(done[s], cache.LengthOf(ids[s]));
            }
        }

        if (int8)
        {
            // Against the float64 result on the rows the pool holds, dequantised: only float rounding remains.
            for (int s = 0; s < sequences; s++)
            {
                var (keys, values) = Dequantized(cache, ids[s]);
                var x = inputs[s];
                var onPool = LayerReference.Compute(
                    fixture.Options, fixture.Weights, 1, x, x, x, new LayerMasks { Causal = CausalMask.TopLeft }, sinks, keys, values);
                LayerFixture.AssertClose(onPool.Output, results[s], 1e-4, $"sequence {s} on the dequantised pool");
            }
        }

        foreach (int id in ids)
        {
            cache.RemoveSequence(id);
        }

        Assert.Equal(pages, cache.FreePageCount);
    }

    /// <summary>Prefill and decode steps of one sequence on a Half layer, against the reference on Half-rounded data.</summary>
    protected void RunHalf(KeyValueCacheStorage storage, double tolerance)
    {
        const int e = 16;
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(e, 4) { NumKeyValueHeads = 2 }, seed: 95);
        using var backend = CreateBackend();
        using var layer = fixture.Create<Half>(backend);
        var x = LayerFixture.Rounded<Half>(fixture.Input(1, 9, e));
        var expected = fixture.RoundedTo<Half>().Reference(1, x, x, x, new LayerMasks { Causal = CausalMask.TopLeft }).Output;
        using var cache = layer.CreatePagedCache(pageSize: 4, pageCount: 3, storage);
        int id = cache.AddSequence();
        StepOneSequence(backend, layer, cache, id, x, expected, e, [(0, 6), (6, 1), (7, 2)], tolerance);
    }

    [Fact]
    public void Bad_token_counts_are_rejected_before_anything_is_written()
    {
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(8, 2), seed: 96);
        using var backend = CreateBackend();
        using var layer = fixture.Create(backend);
        using var cache = layer.CreatePagedCache(pageSize: 2, pageCount: 2);
        int a = cache.AddSequence(), b = cache.AddSequence();
        using var three = backend.Upload<float>(fixture.Input(1, 3, 8));
        using var output = backend.Allocate<float>(24);
        Assert.Equal("tokenCounts", Assert.Throws<ArgumentException>(() => layer.ForwardPagedStep(cache, [a, b], [3], three, output)).ParamName);
        Assert.Equal("tokenCounts", Assert.Throws<ArgumentOutOfRangeException>(() => layer.ForwardPagedStep(cache, [a, b], [3, 0], three, output)).ParamName);
        Assert.Equal("query", Assert.Throws<ArgumentException>(() => layer.ForwardPagedStep(cache, [a, b], [1, 1], three, output)).ParamName);

        // 3 + 2 tokens need 2 + 1 pages of 2: the pool has 2.
        using var five = backend.Upload<float>(fixture.Input(1, 5, 8));
        using var fiveOutput = backend.Allocate<float>(40);
        Assert.Throws<InvalidOperationException>(() => layer.ForwardPagedStep(cache, [a, b], [3, 2], five, fiveOutput));
        Assert.Equal(0, cache.LengthOf(a));
        Assert.Equal(0, cache.LengthOf(b));
        Assert.Equal(2, cache.FreePageCount);
        layer.ForwardPagedStep(cache, [a, b], [2, 1], three, output);
        Assert.Equal(2, cache.LengthOf(a));
        Assert.Equal(1, cache.LengthOf(b));
    }

    [Fact]
    public void Undefined_storage_is_rejected()
    {
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(8, 2), seed: 97);
        using var backend = CreateBackend();
        using var layer = fixture.Create(backend);
        Assert.Equal("storage", Assert.Throws<ArgumentOutOfRangeException>(() => layer.CreatePagedCache(4, 4, (KeyValueCacheStorage)7)).ParamName);
    }

    /// <summary>A sequence's keys and values as the int8 pool holds them, dequantised: <c>[L, Hkv·D]</c> each.</summary>
    private static (double[] Keys, double[] Values) Dequantized(PagedKeyValueCache<float> cache, int sequence)
    {
        var pool = cache.ByteRows!;
        var stored = ByteCacheContents.Read(pool);
        var pages = cache.PagesOf(sequence, "sequence");
        int length = cache.LengthOf(sequence);
        var keys = new double[length * pool.KeyRow];
        var values = new double[length * pool.ValueRow];
        for (int j = 0; j < length; j++)
        {
            long position = ((long)pages[j / cache.PageSize] * cache.PageSize) + (j % cache.PageSize);
            for (int h = 0; h < pool.Heads; h++)
            {
                float keyScale = stored.KeyScales[(position * pool.Heads) + h], valueScale = stored.ValueScales[(position * pool.Heads) + h];
                for (int x = 0; x < pool.KeyDim; x++)
                {
                    keys[(j * pool.KeyRow) + (h * pool.KeyDim) + x] = stored.Keys[(position * pool.KeyRow) + (h * pool.KeyDim) + x] * (double)keyScale;
                }

                for (int x = 0; x < pool.ValueDim; x++)
                {
                    values[(j * pool.ValueRow) + (h * pool.ValueDim) + x] = stored.Values[(position * pool.ValueRow) + (h * pool.ValueDim) + x] * (double)valueScale;
                }
            }
        }

        return (keys, values);
    }
}

/// <summary>The paged prefill tests on the CPU backend (two threads).</summary>
[Trait("Isa", "Rerun")]
public sealed class CpuPagedPrefillTests : PagedPrefillTests
{
    protected override AttentionBackend CreateBackend() => new CpuBackend(new CpuBackendOptions { ThreadCount = 2 });
}

/// <summary>
/// The paged prefill tests on the CUDA backend: pools in device memory, int8 pages quantised and dequantised on the GPU.
/// </summary>
[Trait("Device", "Cuda")]
public sealed class CudaPagedPrefillTests : PagedPrefillTests
{
    [Fact]
    public void BFloat16_layer_prefill_and_decode_equal_one_causal_forward()
    {
        const int e = 16;
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(e, 4) { NumKeyValueHeads = 2 }, seed: 99);
        using var backend = CreateBackend();
        using var layer = fixture.Create<BFloat16>(backend);
        var x = LayerFixture.Rounded<BFloat16>(fixture.Input(1, 19, e));
        var expected = fixture.RoundedTo<BFloat16>().Reference(1, x, x, x, new LayerMasks { Causal = CausalMask.TopLeft }).Output;
        using var cache = layer.CreatePagedCache(pageSize: 8, pageCount: 3);
        int id = cache.AddSequence();
        StepOneSequence(backend, layer, cache, id, x, expected, e, [(0, 17), (17, 1), (18, 1)], 2e-2);
    }

    /// <summary>
    /// Int8 pages of 16 on a 16-bit layer: the 20-token prefill reads the pages dequantised, the decoding steps after it
    /// are read by the 8-bit split-KV kernel as they are (per-position scales in pages of their own).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Int8_pages_are_read_by_the_8_bit_split_kv_kernel(bool bfloat16)
    {
        const int e = 32;
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(e, 4) { NumKeyValueHeads = 2 }, seed: 101);
        using var backend = CreateBackend();
        if (bfloat16)
        {
            Run<BFloat16>(fixture, backend);
        }
        else
        {
            Run<Half>(fixture, backend);
        }

        static void Run<TElement>(LayerFixture fixture, AttentionBackend backend)
            where TElement : unmanaged
        {
            using var layer = fixture.Create<TElement>(backend);
            var x = LayerFixture.Rounded<TElement>(fixture.Input(1, 23, e));
            var expected = fixture.RoundedTo<TElement>().Reference(1, x, x, x, new LayerMasks { Causal = CausalMask.TopLeft }).Output;
            using var cache = layer.CreatePagedCache(pageSize: 16, pageCount: 2, KeyValueCacheStorage.Int8);
            int id = cache.AddSequence();
            StepOneSequence(backend, layer, cache, id, x, expected, e, [(0, 20), (20, 1), (21, 2)], 2e-2);
        }
    }

    [Fact]
    public void Half_layer_long_prompt_reads_pages_in_the_prefill_and_split_kv_kernels()
    {
        // Heads of 64 and pages of 64: the 150-token prefill can run on a key-block kernel, and the decoding steps after
        // it (151 and 152 keys) on split-KV.
        const int e = 128;
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(e, 2) { NumKeyValueHeads = 1 }, seed: 100);
        using var backend = CreateBackend();
        using var layer = fixture.Create<Half>(backend);
        var x = LayerFixture.Rounded<Half>(fixture.Input(1, 152, e));
        var expected = fixture.RoundedTo<Half>().Reference(1, x, x, x, new LayerMasks { Causal = CausalMask.TopLeft }).Output;
        using var cache = layer.CreatePagedCache(pageSize: 64, pageCount: 3);
        int id = cache.AddSequence();
        StepOneSequence(backend, layer, cache, id, x, expected, e, [(0, 150), (150, 1), (151, 1)], 3e-3);
    }

    protected override AttentionBackend CreateBackend() => LayerTestBackends.Cuda();
}
