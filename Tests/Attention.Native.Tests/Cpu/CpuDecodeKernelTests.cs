using Attention.Native.Cpu;

namespace Attention.Native.Tests.Cpu;

/// <summary>
/// The CPU decode kernel's key pairing (keys half a block apart, a lone key when a block's count is odd), its fused loop
/// over a block's values and the next block's keys (blocks of 256), and its row tiles (four rows, then one): key counts
/// around the block edges, rows 1–6, head dims off the vector widths, contiguous and strided rows (the strided ones
/// take the software prefetch), heads side by side (read all heads at a time), one and two threads (split keys), each
/// ISA variant, float, Half and BFloat16 rows (converted in registers).
/// </summary>
public sealed class CpuDecodeKernelTests
{
    public static TheoryData<int, int, int> Shapes()
    {
        var data = new TheoryData<int, int, int>();
        foreach (int keys in new[] { 1, 2, 3, 8, 9, 31, 127, 128, 129, 255, 256, 257, 383, 511, 513, 1100 })
        {
            foreach ((int group, int queries) in new[] { (1, 1), (4, 1), (5, 1), (3, 2) })
            {
                data.Add(keys, group, queries);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Contiguous_rows_match_reference(int keys, int group, int queries)
    {
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 2 });
        AttentionChecker.Check(backend, new AttentionCase(
            $"decode-k{keys}-g{group}-q{queries}", new AttentionShape(2, 2 * group, 2, queries, keys, 40, 24)));
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Strided_rows_match_reference(int keys, int group, int queries)
    {
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 1 });
        AttentionChecker.Check(backend, new AttentionCase(
            $"decode-bshd-k{keys}-g{group}-q{queries}", new AttentionShape(1, 2 * group, 2, queries, keys, 33, 130))
        {
            Options = _ => new() { Layout = AttentionLayout.Bshd, Causal = CausalMask.BottomRight },
        });
    }

    public static TheoryData<string, int, int> SixteenBitShapes()
    {
        var data = new TheoryData<string, int, int>();
        foreach (string type in new[] { "half", "bf16" })
        {
            foreach (int keys in new[] { 1, 7, 255, 256, 257, 513 })
            {
                data.Add(type, keys, 1);
                data.Add(type, keys, 4);
            }
        }

        return data;
    }

    /// <summary>
    /// Half and BFloat16 K and V, converted in registers by the block loop (both layouts, so strided rows take the
    /// software prefetch too): the reference on the same 16-bit values, within the output's rounding.
    /// </summary>
    [Theory]
    [MemberData(nameof(SixteenBitShapes))]
    public void Sixteen_bit_rows_match_reference(string type, int keys, int group)
    {
        var element = type == "half" ? typeof(Half) : typeof(BFloat16);
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 2 });
        AttentionChecker.Check(backend, new AttentionCase(
            $"decode-{type}-k{keys}-g{group}", new AttentionShape(2, 2 * group, 2, 1, keys, 40, 24)) { ElementType = element });
        AttentionChecker.Check(backend, new AttentionCase(
            $"decode-{type}-bshd-k{keys}-g{group}", new AttentionShape(1, 2 * group, 2, 2, keys, 33, 72))
        {
            ElementType = element,
            Options = _ => new() { Layout = AttentionLayout.Bshd, Causal = CausalMask.BottomRight },
        });
    }

    /// <summary>
    /// Layouts where a key's rows of the KV heads lie side by side, which the kernel reads all heads at a time: packed
    /// [B, L, H, D] with per-head bias and a shared mask over split keys, padded rows (gaps, so prefetched), heads
    /// sharing one K and V (head stride 0), and K in [B, L, H, D] with V in [B, H, L, D] (one head at a time).
    /// </summary>
    public static TheoryData<string> HeadLayouts() => new("bshd-split-masked", "padded-interleaved", "shared-heads", "mixed");

    [Theory]
    [MemberData(nameof(HeadLayouts))]
    public void Heads_side_by_side_match_reference(string layout)
    {
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 2 });
        AttentionChecker.Check(backend, layout switch
        {
            "bshd-split-masked" => new AttentionCase(layout, new AttentionShape(2, 8, 4, 2, 1300, 48, 40))
            {
                Options = r => new()
                {
                    Layout = AttentionLayout.Bshd,
                    Causal = CausalMask.BottomRight,
                    KeyLengths = new[] { 1300, 777 },
                    Mask = new(TestData.RandomMask(r, 2L * 2 * 1300, 0.85), 2, 1),
                    Bias = new(TestData.RandomBias(r, 8L * 2 * 1300), 1, 8),
                },
            },
            "padded-interleaved" => new AttentionCase(layout, new AttentionShape(2, 6, 3, 1, 530, 10, 12))
            {
                Options = _ => new()
                {
                    KeyStrides = new(530 * 3 * 22, 22, 3 * 22),
                    ValueStrides = new(530 * 3 * 22, 22, 3 * 22),
                },
                Sizes = s => new(s.QueryElementCount, 2 * 530 * 3 * 22, 2 * 530 * 3 * 22, s.OutputElementCount),
            },
            "shared-heads" => new AttentionCase(layout, new AttentionShape(2, 6, 3, 1, 300, 16, 16))
            {
                Options = _ => new() { KeyStrides = new(300 * 16, 0, 16), ValueStrides = new(300 * 16, 0, 16) },
                Sizes = s => new(s.QueryElementCount, 2 * 300 * 16, 2 * 300 * 16, s.OutputElementCount),
            },
            _ => new AttentionCase(layout, new AttentionShape(1, 4, 2, 3, 400, 32, 32))
            {
                Options = _ => new() { KeyStrides = new(400 * 2 * 32, 32, 2 * 32) },
            },
        });
    }

    /// <summary>
    /// 262,144 KV heads side by side ([B, L, H, D]): more than one work item takes together, whose per-head state and
    /// step structs (on the stack) would otherwise grow with the head count.
    /// </summary>
    [Fact]
    public void Very_many_key_value_heads_side_by_side_match_reference()
    {
        const int heads = 1 << 18;
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 2 });
        AttentionChecker.Check(backend, new AttentionCase("decode-kv-heads-2^18", new AttentionShape(1, heads, heads, 1, 3, 2, 1))
        {
            Options = _ => new() { Layout = AttentionLayout.Bshd },
        });
    }

    public static TheoryData<CpuKernelVariant> Variants() =>
        new(CpuKernelVariant.Vector512, CpuKernelVariant.Vector256, CpuKernelVariant.Vector128, CpuKernelVariant.Scalar);

    [Theory]
    [MemberData(nameof(Variants))]
    public void Each_variant_pairs_keys_across_blocks(CpuKernelVariant variant)
    {
        using var backend = new CpuBackend(new CpuBackendOptions { Variant = variant, ThreadCount = 1 });
        foreach (var element in new[] { typeof(float), typeof(Half), typeof(BFloat16) })
        {
            AttentionChecker.Check(backend, new AttentionCase("decode-variant", new AttentionShape(1, 10, 2, 1, 201, 72, 72))
            {
                ElementType = element,
                Options = r => new()
                {
                    KeyLengths = new[] { 190 },
                    Mask = new(TestData.RandomMask(r, 201, 0.8), 1, 1),
                    Softcap = 4f,
                },
            });
        }
    }
}

/// <summary>Large CPU tensors on transparent huge pages (<see cref="CpuBackendOptions.HugePages"/>).</summary>
public sealed unsafe class CpuHugePagesTests
{
    [Fact]
    public void Large_tensors_start_on_a_huge_page_boundary_when_asked()
    {
        const long length = (4L << 20) / sizeof(float);
        using var backend = new CpuBackend(new CpuBackendOptions { HugePages = true });
        using var tensor = (CpuTensor<float>)backend.Allocate<float>(length);
        Assert.True(backend.HugePages);
        long alignment = OperatingSystem.IsLinux() ? 2L << 20 : 64;
        Assert.Equal(0, (long)tensor.Pointer % alignment);
        Assert.All(tensor.AsSpan().ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Small_tensors_and_disabled_huge_pages_keep_cache_line_alignment()
    {
        using var off = new CpuBackend(new CpuBackendOptions { HugePages = false });
        using var on = new CpuBackend();
        using var large = (CpuTensor<float>)off.Allocate<float>((4L << 20) / sizeof(float));
        using var small = (CpuTensor<float>)on.Allocate<float>(1000);
        Assert.False(off.HugePages);
        Assert.True(on.HugePages);
        Assert.Equal(0, (long)large.Pointer % 64);
        Assert.Equal(0, (long)small.Pointer % 64);
    }

    [Fact]
    public void Results_do_not_depend_on_the_page_size()
    {
        var shape = new AttentionShape(1, 8, 2, 1, 2048, 128, 128);
        var random = TestRandom.Create(7);
        float[] q = TestData.Random<float>(random, shape.QueryElementCount, 1f);
        float[] k = TestData.Random<float>(random, shape.KeyElementCount, 1f);
        float[] v = TestData.Random<float>(random, shape.ValueElementCount, 1f);
        float[] Run(bool huge)
        {
            using var backend = new CpuBackend(new CpuBackendOptions { HugePages = huge, ThreadCount = 1 });
            var output = new float[shape.OutputElementCount];
            backend.ScaledDotProductAttention<float>(shape, q, k, v, output);
            return output;
        }

        Assert.Equal(Run(false), Run(true));
    }
}
