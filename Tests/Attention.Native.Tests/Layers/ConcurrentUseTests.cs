using Attention.Native.Cpu;
using Attention.Native.Layers;

namespace Attention.Native.Tests.Layers;

/// <summary>
/// A layer or cache serves one call at a time: a second call that enters while one is running throws
/// <see cref="InvalidOperationException"/> (instead of sharing its scratch buffers or cache rows), and the first call
/// finishes correctly. The first call is held inside the layer by masks whose memory blocks when the layer reads it.
/// </summary>
public sealed class ConcurrentUseTests
{
    private const int Batch = 2, Length = 3, E = 8;

    [Fact]
    public void Second_forward_on_a_busy_layer_throws_and_the_first_completes()
    {
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(E, 2), seed: 5);
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 1 });
        using var layer = fixture.Create(backend);
        var x = fixture.Input(Batch, Length, E);
        var padding = Padding();
        var expected = fixture.Reference(Batch, x, x, x, new LayerMasks { KeyPadding = padding }).Output;
        var output = TestData.Poison<float>(x.Length);
        var blocking = new BlockingMemory<bool>(padding);
        var masks = new LayerMasks { KeyPadding = blocking.Memory };

        var first = WhileBlocked(blocking, () => layer.Forward(Batch, x, output, masks), () =>
        {
            var error = Assert.Throws<InvalidOperationException>(() => layer.Forward(Batch, x, new float[x.Length]));
            Assert.Contains("one call at a time", error.Message, StringComparison.Ordinal);
        });

        Assert.Null(first);
        LayerFixture.AssertClose(expected, output);
    }

    [Fact]
    public void Busy_layer_rejects_weight_loads_and_reads()
    {
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(E, 2), seed: 6);
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 1 });
        using var layer = fixture.Create(backend);
        var x = fixture.Input(Batch, Length, E);
        var blocking = new BlockingMemory<bool>(Padding());
        var masks = new LayerMasks { KeyPadding = blocking.Memory };
        var w = fixture.Weights;

        var first = WhileBlocked(blocking, () => layer.Forward(Batch, x, new float[x.Length], masks), () =>
        {
            Assert.Throws<InvalidOperationException>(() => layer.LoadPyTorchWeights(
                w.QProjWeight, w.KProjWeight, w.VProjWeight, w.InProjBias, w.OutProjWeight, w.OutProjBias));
            Assert.Throws<InvalidOperationException>(() => layer.ReadPyTorchWeights());
        });

        Assert.Null(first);
        Assert.Equal(w.OutProjWeight, layer.ReadPyTorchWeights().OutProjWeight);
    }

    [Fact]
    public void Busy_cache_cannot_be_reset_and_its_layer_takes_no_other_step()
    {
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(E, 2), seed: 7);
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 1 });
        using var layer = fixture.Create(backend);
        using var cache = layer.CreateCache(Batch, capacity: Length);
        using var other = layer.CreateCache(Batch, capacity: Length);
        using var input = backend.Upload<float>(fixture.Input(Batch, Length, E));
        using var output = backend.Allocate<float>(Batch * Length * E);
        using var otherOutput = backend.Allocate<float>(Batch * Length * E);
        var blocking = new BlockingMemory<bool>(Padding());
        var masks = new LayerMasks { KeyPadding = blocking.Memory };

        var first = WhileBlocked(blocking, () => layer.ForwardStep(cache, input, output, masks), () =>
        {
            Assert.Throws<InvalidOperationException>(cache.Reset);
            Assert.Throws<InvalidOperationException>(() => layer.ForwardStep(other, input, otherOutput));
        });

        Assert.Null(first);
        Assert.Equal(Length, cache.Length);
        Assert.Equal(0, other.Length);
    }

    [Fact]
    public void Second_forward_on_a_busy_additive_layer_throws_and_the_first_completes()
    {
        var random = TestRandom.Create(8);
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 1 });
        using var layer = new AdditiveAttention(backend, new AdditiveAttentionOptions(E, E, 5));
        layer.LoadWeights(TestData.Random<float>(random, 5 * E, 0.5f), TestData.Random<float>(random, 5 * E, 0.5f), TestData.Random<float>(random, 5, 0.5f));
        var q = TestData.Random<float>(random, Batch * Length * E, 1f);
        var padding = Padding();
        var expected = new float[q.Length];
        layer.Forward(Batch, q, q, q, expected, new LayerMasks { KeyPadding = padding });
        var output = TestData.Poison<float>(q.Length);
        var blocking = new BlockingMemory<bool>(padding);
        var masks = new LayerMasks { KeyPadding = blocking.Memory };

        var first = WhileBlocked(blocking, () => layer.Forward(Batch, q, q, q, output, masks), () =>
            Assert.Throws<InvalidOperationException>(() => layer.Forward(Batch, q, q, q, new float[q.Length])));

        Assert.Null(first);
        Assert.Equal(expected, output);
    }

    /// <summary>A [B, Lk] key padding in which every row sees a key.</summary>
    private static bool[] Padding() => [.. Enumerable.Range(0, Batch * Length).Select(i => i % Length != 1)];

    /// <summary>
    /// Starts <paramref name="call"/> on another thread, runs <paramref name="meanwhile"/> once the call is blocked
    /// inside the layer (reading <paramref name="blocking"/>), then lets it finish; returns what the call threw.
    /// </summary>
    private static Exception? WhileBlocked(BlockingMemory<bool> blocking, Action call, Action meanwhile)
    {
        blocking.Arm();
        Exception? thrown = null;
        var thread = new Thread(() =>
        {
            try
            {
                call();
            }
            catch (Exception e)
            {
                thrown = e;
            }
        });
        thread.Start();
        try
        {
            Assert.True(blocking.Entered.Wait(TimeSpan.FromSeconds(60)), "the first call never read its masks");
            meanwhile();
        }
        finally
        {
            blocking.Release();
            thread.Join();
        }

        return thrown;
    }
}
