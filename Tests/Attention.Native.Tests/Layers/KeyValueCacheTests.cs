using Attention.Native.Layers;

namespace Attention.Native.Tests.Layers;

/// <summary>
/// Incremental decoding through a <see cref="KeyValueCache{T}"/>: step by step (steps of several sizes) equal to one
/// full causal forward over the whole sequence, and the cache's full / growable behaviour.
/// </summary>
public abstract class KeyValueCacheTests
{
    protected abstract AttentionBackend CreateBackend();

    [Theory]
    [InlineData(4, 4, false, new[] { 3, 1, 1, 2, 1 })]   // a prompt, then tokens
    [InlineData(8, 2, true, new[] { 1, 1, 1, 1, 1, 1 })] // GQA, token by token, cache grows from 2
    [InlineData(4, 1, true, new[] { 5, 4, 1 })]          // MQA, steps above the decode kernel's 4
    public void Steps_equal_full_causal_recomputation(int heads, int kvHeads, bool growable, int[] steps)
    {
        const int batch = 2, e = 16;
        int total = steps.Sum();
        var options = new MultiHeadAttentionOptions(e, heads) { NumKeyValueHeads = kvHeads, KeyDim = 4 };
        var fixture = new LayerFixture(options, seed: total);
        using var backend = CreateBackend();
        using var layer = fixture.Create(backend);
        var x = fixture.Input(batch, total, e);
        var expected = fixture.Reference(batch, x, x, x, new LayerMasks { Causal = CausalMask.TopLeft }).Output;

        using var cache = layer.CreateCache(batch, capacity: growable ? 2 : total, growable);
        int done = 0;
        foreach (int n in steps)
        {
            var step = Rows(x, batch, total, done, n, e);
            using var input = backend.Upload<float>(step);
            using var output = backend.Upload<float>(TestData.Poison<float>(step.Length));
            layer.ForwardStep(cache, input, output);
            LayerFixture.AssertClose(Rows(expected, batch, total, done, n, e), output.ToArray(), what: $"step at {done}");
            done += n;
            Assert.Equal(done, cache.Length);
        }

        Assert.True(cache.Capacity >= total);
    }

    /// <summary>
    /// Token by token for more sequences than a decoding step's row projection takes at once (four): the step's rows
    /// then go through one GEMM whose row strides are the cache's sequence strides.
    /// </summary>
    [Fact]
    public void Many_sequences_token_by_token_equal_full_causal_recomputation()
    {
        const int batch = 6, e = 24, total = 5;
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(e, 4) { NumKeyValueHeads = 2 }, seed: 61);
        using var backend = CreateBackend();
        using var layer = fixture.Create(backend);
        var x = fixture.Input(batch, total, e);
        var expected = fixture.Reference(batch, x, x, x, new LayerMasks { Causal = CausalMask.TopLeft }).Output;
        using var cache = layer.CreateCache(batch, capacity: total + 3);
        for (int done = 0; done < total; done++)
        {
            var step = Rows(x, batch, total, done, 1, e);
            using var input = backend.Upload<float>(step);
            using var output = backend.Upload<float>(TestData.Poison<float>(step.Length));
            layer.ForwardStep(cache, input, output);
            LayerFixture.AssertClose(Rows(expected, batch, total, done, 1, e), output.ToArray(), what: $"step at {done}");
        }
    }

    [Fact]
    public void Full_cache_throws_and_writes_nothing()
    {
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(8, 2), seed: 1);
        using var backend = CreateBackend();
        using var layer = fixture.Create(backend);
        using var cache = layer.CreateCache(batch: 1, capacity: 3);
        using var three = backend.Upload<float>(fixture.Input(1, 3, 8));
        using var first = backend.Allocate<float>(24);
        layer.ForwardStep(cache, three, first);
        using var one = backend.Upload<float>(fixture.Input(1, 1, 8));
        var poison = TestData.Poison<float>(8);
        using var output = backend.Upload<float>(poison);
        var error = Assert.Throws<InvalidOperationException>(() => layer.ForwardStep(cache, one, output));
        Assert.Contains("full", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, cache.Length);
        Assert.All(output.ToArray(), value => Assert.True(float.IsNaN(value)));

        cache.Reset();
        layer.ForwardStep(cache, one, output);
        Assert.Equal(1, cache.Length);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(4)] // above Lk = 3, the cache's length after the append
    public void Out_of_range_key_lengths_are_rejected_before_anything_is_appended(int bad)
    {
        const int batch = 2, e = 8, total = 3;
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(e, 2), seed: 3);
        using var backend = CreateBackend();
        using var layer = fixture.Create(backend);
        var x = fixture.Input(batch, total, e);
        var expected = fixture.Reference(batch, x, x, x, new LayerMasks { Causal = CausalMask.TopLeft }).Output;

        // Full and growable: a step that got as far as the append would grow it and lengthen it.
        using var cache = layer.CreateCache(batch, capacity: 2, growable: true);
        using var prompt = backend.Upload<float>(Rows(x, batch, total, 0, 2, e));
        using var promptOutput = backend.Allocate<float>(batch * 2 * e);
        layer.ForwardStep(cache, prompt, promptOutput);
        using var next = backend.Upload<float>(Rows(x, batch, total, 2, 1, e));
        using var output = backend.Upload<float>(TestData.Poison<float>(batch * e));
        var masks = new LayerMasks { KeyLengths = new[] { total, bad } };
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => layer.ForwardStep(cache, next, output, masks));
        Assert.Equal("masks", error.ParamName);
        Assert.Contains("masks.KeyLengths", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, cache.Length);
        Assert.Equal(2, cache.Capacity);
        Assert.All(output.ToArray(), value => Assert.True(float.IsNaN(value)));

        // The cache is as the prompt left it: the same step without the bad masks continues the sequence.
        layer.ForwardStep(cache, next, output);
        Assert.Equal(total, cache.Length);
        LayerFixture.AssertClose(Rows(expected, batch, total, 2, 1, e), output.ToArray());
    }

    [Fact]
    public void Cache_of_another_layer_is_rejected()
    {
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(8, 2), seed: 2);
        using var backend = CreateBackend();
        using var layer = fixture.Create(backend);
        using var other = fixture.Create(backend);
        using var cache = other.CreateCache(1, 4);
        using var input = backend.Upload<float>(fixture.Input(1, 1, 8));
        using var output = backend.Allocate<float>(8);
        Assert.Equal("cache", Assert.Throws<ArgumentException>(() => layer.ForwardStep(cache, input, output)).ParamName);
    }

    /// <summary>Positions <c>[start, start + n)</c> of every sequence of a <c>[B, total, E]</c> array.</summary>
    internal static T[] Rows<T>(T[] all, int batch, int total, int start, int n, int e)
    {
        var rows = new T[batch * n * e];
        for (int b = 0; b < batch; b++)
        {
            Array.Copy(all, ((b * total) + start) * e, rows, b * n * e, n * e);
        }

        return rows;
    }
}
