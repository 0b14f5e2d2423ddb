using Attention.Native.Cpu;
using Attention.Native.Cpu.Simd;
using Attention.Native.Layers;

namespace Attention.Native.Tests.Layers;

/// <summary>
/// A CPU backend's forced variant reaches every operation its layers run: the projections (SGEMM for many rows, the
/// row projection for a decoding step's few), the attention kernels (tiled and decode), the additive kernel and the
/// Half conversions (weights, projections, attention operands), as <see cref="CpuIsaObserver"/> records them; the
/// results still match the float64 reference.
/// </summary>
public sealed class ForcedVariantTests
{
    public static TheoryData<CpuKernelVariant> Forced() => new(CpuKernelVariant.Scalar, CpuKernelVariant.Vector128);

    [Theory]
    [MemberData(nameof(Forced))]
    public void Half_multi_head_attention_forward_and_step_run_in_the_forced_variant(CpuKernelVariant variant)
    {
        using var observation = CpuIsaObserver.Observe();
        RunHalfLayer(new CpuBackend(new CpuBackendOptions { Variant = variant, ThreadCount = 2 }));
        AssertRanIn(
            observation, variant, CpuOperation.Sgemm, CpuOperation.RowProjection, CpuOperation.TiledAttention,
            CpuOperation.DecodeAttention, CpuOperation.Conversion);
    }

    [Theory]
    [MemberData(nameof(Forced))]
    public void Additive_attention_runs_in_the_forced_variant(CpuKernelVariant variant)
    {
        using var observation = CpuIsaObserver.Observe();
        using var backend = new CpuBackend(new CpuBackendOptions { Variant = variant, ThreadCount = 2 });
        const int dq = 6, dk = 7, units = 19, dv = 9, tk = 5;
        var random = TestRandom.Create(17);
        using var layer = new AdditiveAttention(backend, new AdditiveAttentionOptions(dq, dk, units) { ValueDim = dv });
        layer.LoadWeights(
            TestData.Random<float>(random, units * dq, 0.5f), TestData.Random<float>(random, units * dk, 0.5f),
            TestData.Random<float>(random, units, 0.5f));
        // Three queries in one sequence: their projection takes the row projection; the five keys' the SGEMM.
        foreach (var (batch, tq) in new[] { (1, 3), (2, 4) })
        {
            var output = TestData.Poison<float>(batch * tq * dv);
            layer.Forward(
                batch, TestData.Random<float>(random, batch * tq * dq, 1f), TestData.Random<float>(random, batch * tk * dk, 1f),
                TestData.Random<float>(random, batch * tk * dv, 1f), output);
            Assert.All(output, value => Assert.False(float.IsNaN(value)));
        }

        AssertRanIn(observation, variant, CpuOperation.Sgemm, CpuOperation.RowProjection, CpuOperation.AdditiveAttention);
    }

    /// <summary>
    /// A Half layer (weights loaded and read back) on <paramref name="backend"/> (disposed here): a forward of 2 × 7 tokens
    /// against the reference, then a prompt of 7 and a decoding step of one token per sequence through a cache.
    /// </summary>
    internal static void RunHalfLayer(CpuBackend backend)
    {
        using var owned = backend;
        const int batch = 2, length = 7, e = 32;
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(e, 4) { NumKeyValueHeads = 2 }, seed: 5);
        using var layer = fixture.Create<Half>(backend);
        Assert.Equal(LayerFixture.Rounded<Half>(fixture.Weights.OutProjWeight), layer.ReadPyTorchWeights().OutProjWeight);
        var x = LayerFixture.Rounded<Half>(fixture.Input(batch, length + 1, e));
        var prompt = KeyValueCacheTests.Rows(x, batch, length + 1, 0, length, e);
        using var input = backend.Upload<Half>(LayerFixture.Narrow<Half>(prompt));
        using var output = backend.Upload<Half>(TestData.Poison<Half>(prompt.Length));
        layer.Forward(batch, input, output);
        var expected = fixture.RoundedTo<Half>().Reference(batch, prompt, prompt, prompt).Output;
        LayerFixture.AssertClose(expected, LayerFixture.Widen(output.ToArray()), 2.0 / 2048);

        using var cache = layer.CreateCache(batch, capacity: length + 1);
        layer.ForwardStep(cache, input, output);
        using var token = backend.Upload<Half>(LayerFixture.Narrow<Half>(KeyValueCacheTests.Rows(x, batch, length + 1, length, 1, e)));
        using var next = backend.Upload<Half>(TestData.Poison<Half>(batch * e));
        layer.ForwardStep(cache, token, next);
        Assert.All(next.ToArray(), value => Assert.False(Half.IsNaN(value)));
    }

    internal static void AssertRanIn(CpuIsaObservation observation, CpuKernelVariant variant, params CpuOperation[] operations)
    {
        foreach (var operation in operations)
        {
            Assert.True(observation.Variants(operation).SequenceEqual([variant]),
                $"{operation} ran in [{string.Join(", ", observation.Variants(operation))}], not only in {variant}");
        }

        foreach (var operation in Enum.GetValues<CpuOperation>())
        {
            Assert.All(observation.Variants(operation), ran => Assert.Equal(variant, ran));
        }
    }
}

/// <summary>The environment variable forces the variant of a default backend's layers just as the option does.</summary>
[Collection(ProcessEnvironmentCollection.Name)]
public sealed class ForcedVariantEnvironmentTests
{
    [Fact]
    public void Environment_variable_reaches_the_layers()
    {
        string? saved = Environment.GetEnvironmentVariable(CpuIsa.VariantEnvironmentVariable);
        Environment.SetEnvironmentVariable(CpuIsa.VariantEnvironmentVariable, nameof(CpuKernelVariant.Scalar));
        try
        {
            using var observation = CpuIsaObserver.Observe();
            ForcedVariantTests.RunHalfLayer(new CpuBackend());
            ForcedVariantTests.AssertRanIn(
                observation, CpuKernelVariant.Scalar, CpuOperation.Sgemm, CpuOperation.RowProjection,
                CpuOperation.TiledAttention, CpuOperation.DecodeAttention, CpuOperation.Conversion);
        }
        finally
        {
            Environment.SetEnvironmentVariable(CpuIsa.VariantEnvironmentVariable, saved);
        }
    }
}
