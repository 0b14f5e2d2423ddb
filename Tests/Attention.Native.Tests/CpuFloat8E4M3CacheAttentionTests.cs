using Attention.Native.Cpu;
using Attention.Native.Cpu.Decode;
using Attention.Native.Cuda.SplitKv;

namespace Attention.Native.Tests;

/// <summary>
/// The CPU decode kernel over an fp8 e4m3 key/value cache (<see cref="ByteCacheAttention"/>, one scale per (batch, KV
/// head) at a zero key stride), converting each byte in registers: against the float64 reference of the dequantised
/// values (only the kernel's rounding) and of the unquantised ones within the documented bound
/// (<see cref="QuantizedKeyValueCase{T}"/>). Key counts 1, 7, 65 and 1000, GQA, two queries (causal), BHSD and
/// [B, L, H, D] caches, masks, biases, key lengths, a soft cap, float, Half and BFloat16 queries, each ISA variant,
/// paged caches of either page layout. Rows and heads of different magnitudes, so that a scale read for the wrong head
/// fails; outputs start poisoned.
/// </summary>
[Trait("Isa", "Rerun")]
public sealed class CpuFloat8E4M3CacheAttentionTests
{
    public static TheoryData<int, int, int> Shapes()
    {
        var data = new TheoryData<int, int, int>();
        foreach (int keys in new[] { 1, 7, 65, 1000 })
        {
            foreach ((int group, int queries) in new[] { (1, 1), (4, 1), (3, 2) })
            {
                data.Add(keys, group, queries);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Contiguous_cache_matches_reference(int keys, int group, int queries)
    {
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 2 });
        Check<float>(backend, $"e4m3-k{keys}-g{group}-q{queries}", new AttentionShape(2, 2 * group, 2, queries, keys, 40, 24),
            _ => new() { Causal = CausalMask.BottomRight });
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Bshd_cache_matches_reference(int keys, int group, int queries)
    {
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 1 });
        Check<float>(
            backend, $"e4m3-bshd-k{keys}-g{group}-q{queries}", new AttentionShape(1, 3 * group, 3, queries, keys, 33, 130),
            _ => new() { Layout = AttentionLayout.Bshd, Causal = CausalMask.BottomRight });
    }

    [Fact]
    public void Split_keys_with_masks_bias_and_key_lengths_match_reference()
    {
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 2 });
        Check<float>(backend, "e4m3-split-masked", new AttentionShape(2, 8, 4, 2, 1300, 48, 40), r => new()
        {
            Layout = AttentionLayout.Bshd,
            Causal = CausalMask.BottomRight,
            KeyLengths = new[] { 1300, 777 },
            Mask = new(TestData.RandomMask(r, 2L * 2 * 1300, 0.85), 2, 1),
            Bias = new(TestData.RandomBias(r, 8L * 2 * 1300), 1, 8),
        });
    }

    public static TheoryData<CpuKernelVariant> Variants() =>
        new(CpuKernelVariant.Vector512, CpuKernelVariant.Vector256, CpuKernelVariant.Vector128, CpuKernelVariant.Scalar);

    [Theory]
    [MemberData(nameof(Variants))]
    public void Each_variant_matches_reference(CpuKernelVariant variant)
    {
        using var backend = new CpuBackend(new CpuBackendOptions { Variant = variant, ThreadCount = 1 });
        Check<float>(backend, "e4m3-variant", new AttentionShape(1, 10, 2, 1, 201, 72, 72), r => new()
        {
            KeyLengths = new[] { 190 },
            Mask = new(TestData.RandomMask(r, 201, 0.8), 1, 1),
            Softcap = 4f,
        });
    }

    [Fact]
    public void Half_queries_match_reference()
    {
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 2 });
        Check<Half>(backend, "e4m3-half", new AttentionShape(1, 8, 2, 1, 700, 64, 64), _ => new());
    }

    [Fact]
    public void BFloat16_queries_match_reference()
    {
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 1 });
        Check<BFloat16>(backend, "e4m3-bf16", new AttentionShape(1, 4, 4, 1, 300, 48, 48), _ => new() { Layout = AttentionLayout.Bshd });
    }

    [Fact]
    public void Nan_codes_reach_the_output_as_nan()
    {
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 1 });
        var shape = new AttentionShape(1, 1, 1, 1, 3, 8, 8);
        var key = new sbyte[shape.KeyElementCount];
        var value = new sbyte[shape.ValueElementCount];
        value[8 + 2] = 0x7F;
        var output = TestData.Poison<float>(shape.OutputElementCount);
        ByteCacheAttention.Run<float>(backend, shape, new float[shape.QueryElementCount], new ByteKeyValueSpans
        {
            Format = KeyValue8BitFormat.Float8E4M3,
            Key = key,
            Value = value,
            KeyScales = new[] { 1f },
            ValueScales = new[] { 1f },
            ScaleStrides = new(1, 1, 0),
        }, output);
        Assert.True(float.IsNaN(output[2]), $"{output[2]}");
        Assert.Equal(0f, output[0]);
    }

    private static void Check<T>(CpuBackend backend, string name, AttentionShape shape, Func<Random, AttentionOptions> build)
        where T : unmanaged =>
        CpuInt8CacheAttentionTests.Check<T>(backend, KeyValue8BitFormat.Float8E4M3, name, shape, build, spread: true);
}
