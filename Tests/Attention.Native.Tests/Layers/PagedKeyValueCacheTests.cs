using Attention.Native.Cpu;
using Attention.Native.Layers;

namespace Attention.Native.Tests.Layers;

/// <summary>
/// Continuous batching over a <see cref="PagedKeyValueCache{T}"/>: sequences of different lengths join and leave at
/// different steps, each step decodes one token for every active sequence in one call, and every output row equals
/// the float64 reference of a full causal forward over that sequence alone; pages return to the pool and are reused;
/// a full pool and bad arguments throw before anything is written. Run on each backend by the classes below.
/// </summary>
public abstract class PagedKeyValueCacheTests
{
    protected abstract AttentionBackend CreateBackend();

    [Theory]
    [InlineData(4, 2, 4)]   // GQA, pages of 4
    [InlineData(4, 1, 16)]  // MQA, every sequence in one page
    [InlineData(2, 2, 1)]   // MHA, a page per token
    public void Continuous_batching_equals_each_sequence_alone(int heads, int kvHeads, int pageSize)
    {
        const int e = 16;
        int[] totals = [9, 3, 6, 5];
        int[] joins = [0, 0, 2, 4];
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(e, heads) { NumKeyValueHeads = kvHeads, KeyDim = 4 }, seed: 71 + pageSize);
        var inputs = totals.Select(t => fixture.Input(1, t, e)).ToArray();
        var expected = inputs.Select((x, s) => fixture.Reference(1, x, x, x, new LayerMasks { Causal = CausalMask.TopLeft }).Output).ToArray();
        using var backend = CreateBackend();
        using var layer = fixture.Create(backend);

        // Enough pages for the three longest at once: sequence 3 joins when sequence 1 has left and takes its pages.
        int pages = new[] { 9, 6, 5 }.Sum(t => (t + pageSize - 1) / pageSize);
        using var cache = layer.CreatePagedCache(pageSize, pages);
        var ids = new int[totals.Length];
        var done = new int[totals.Length];
        var active = new List<int>();
        for (int step = 0; active.Count > 0 || step == 0 || done.Where((d, s) => d < totals[s]).Any(); step++)
        {
            for (int s = 0; s < totals.Length; s++)
            {
                if (joins[s] == step)
                {
                    ids[s] = cache.AddSequence();
                    active.Add(s);
                }
            }

            var order = active.OrderByDescending(s => s).ToArray();
            var rows = order.SelectMany(s => inputs[s].Skip(done[s] * e).Take(e)).ToArray();
            using var input = backend.Upload<float>(rows);
            using var output = backend.Upload<float>(TestData.Poison<float>(rows.Length));
            layer.ForwardPagedStep(cache, order.Select(s => ids[s]).ToArray(), input, output);
            var result = output.ToArray();
            for (int i = 0; i < order.Length; i++)
            {
                int s = order[i];
                LayerFixture.AssertClose(
                    expected[s].Skip(done[s] * e).Take(e).ToArray(), result.Skip(i * e).Take(e).ToArray(),
                    what: $"sequence {s} position {done[s]} at step {step}");
                done[s]++;
                Assert.Equal(done[s], cache.LengthOf(ids[s]));
                if (done[s] == totals[s])
                {
                    cache.RemoveSequence(ids[s]);
                    active.Remove(s);
                }
            }
        }

        Assert.Equal(pages, cache.FreePageCount);
        Assert.Equal(0, cache.SequenceCount);
    }

    [Fact]
    public void Full_pool_throws_and_writes_nothing()
    {
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(8, 2), seed: 72);
        using var backend = CreateBackend();
        using var layer = fixture.Create(backend);
        using var cache = layer.CreatePagedCache(pageSize: 2, pageCount: 1);
        int a = cache.AddSequence(), b = cache.AddSequence();
        using var one = backend.Upload<float>(fixture.Input(1, 1, 8));
        using var two = backend.Upload<float>(fixture.Input(1, 2, 8));
        using var first = backend.Allocate<float>(8);
        using var output = backend.Allocate<float>(16);
        layer.ForwardPagedStep(cache, [a], one, first);
        var poison = TestData.Poison<float>(16);
        output.CopyFrom(poison);
        var error = Assert.Throws<InvalidOperationException>(() => layer.ForwardPagedStep(cache, [a, b], two, output));
        Assert.Contains("free pages", error.Message, StringComparison.Ordinal);
        Assert.All(output.ToArray(), x => Assert.True(float.IsNaN(x)));
        Assert.Equal(1, cache.LengthOf(a));
        Assert.Equal(0, cache.LengthOf(b));
        layer.ForwardPagedStep(cache, [a], one, first);
        Assert.Equal(2, cache.LengthOf(a));
    }

    [Fact]
    public void Bad_sequences_and_sizes_are_rejected()
    {
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(8, 2), seed: 73);
        using var backend = CreateBackend();
        using var layer = fixture.Create(backend);
        using var other = fixture.Create(backend);
        using var cache = layer.CreatePagedCache(pageSize: 4, pageCount: 4);
        int a = cache.AddSequence(), b = cache.AddSequence();
        using var two = backend.Upload<float>(fixture.Input(1, 2, 8));
        using var output = backend.Allocate<float>(16);
        Assert.Equal("sequences", Assert.Throws<ArgumentException>(() => layer.ForwardPagedStep(cache, [a, a], two, output)).ParamName);
        Assert.Equal("sequences", Assert.Throws<ArgumentException>(() => layer.ForwardPagedStep(cache, [a, 7], two, output)).ParamName);
        Assert.Equal("sequences", Assert.Throws<ArgumentException>(() => layer.ForwardPagedStep(cache, [], two, output)).ParamName);
        Assert.Equal("query", Assert.Throws<ArgumentException>(() => layer.ForwardPagedStep(cache, [a], two, output)).ParamName);
        Assert.Equal("cache", Assert.Throws<ArgumentException>(() => other.ForwardPagedStep(cache, [a, b], two, output)).ParamName);
        Assert.Equal("sequence", Assert.Throws<ArgumentException>(() => cache.RemoveSequence(9)).ParamName);
        cache.RemoveSequence(b);
        Assert.Equal("sequence", Assert.Throws<ArgumentException>(() => cache.LengthOf(b)).ParamName);
        Assert.Equal(0, cache.LengthOf(a));
        Assert.Throws<ArgumentOutOfRangeException>(() => layer.CreatePagedCache(0, 4));
    }
}

/// <summary>The paged cache tests on the CPU backend (two threads: the decode kernel splits the sequences' work).</summary>
[Trait("Isa", "Rerun")]
public sealed class CpuPagedKeyValueCacheTests : PagedKeyValueCacheTests
{
    protected override AttentionBackend CreateBackend() => new CpuBackend(new CpuBackendOptions { ThreadCount = 2 });
}

/// <summary>The paged cache tests on the CUDA backend: the pool in device memory, the kernels reading its pages.</summary>
[Trait("Device", "Cuda")]
public sealed class CudaPagedKeyValueCacheTests : PagedKeyValueCacheTests
{
    protected override AttentionBackend CreateBackend() => LayerTestBackends.Cuda();
}
