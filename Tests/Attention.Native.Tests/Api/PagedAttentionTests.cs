using Attention.Native.Cpu;

namespace Attention.Native.Tests.Api;

/// <summary>
/// Attention over paged K/V (<see cref="AttentionBackend.PagedScaledDotProductAttention{T}(AttentionShape, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, PagedKeyValueLayout, Span{T}, AttentionOptions?, Span{float})"/>)
/// on the CPU against the float64 reference of the same rows laid out contiguously: page sizes 16, 64 and 256 (below,
/// at and above the decode kernel's 256-key block), odd sequence lengths (1, 7, 63, 65, 1000) and an empty one, pages
/// out of order, pages shared between sequences, decode (the decode kernel, split over two threads) and prefill (the
/// tiled kernel), float, Half and BFloat16, masks, biases, a window and a soft cap; then the checks of bad input.
/// </summary>
[Trait("Isa", "Rerun")]
public sealed class PagedAttentionTests
{
    public static TheoryData<int, int, int> Decodes()
    {
        var data = new TheoryData<int, int, int>();
        foreach (int pageSize in new[] { 16, 64, 256 })
        {
            foreach ((int queries, int threads) in new[] { (1, 1), (1, 2), (3, 2) })
            {
                data.Add(pageSize, queries, threads);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Decodes))]
    public void Decode_matches_reference(int pageSize, int queries, int threads)
    {
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = threads });
        var shape = new AttentionShape(4, 8, 2, queries, 1000, 64, 40);
        Check<float>(backend, $"paged-decode-p{pageSize}-q{queries}", shape, pageSize, [1000, 65, 7, 63], sharedPages: 0,
            _ => new() { Causal = CausalMask.BottomRight });
    }

    /// <summary>Head-major pages (<see cref="PagedKeyValueLayout.HeadMajor"/>): decode, split keys and prefill.</summary>
    [Theory]
    [InlineData(16, 1, 2)]
    [InlineData(64, 3, 1)]
    [InlineData(256, 1, 2)]
    [InlineData(16, 20, 2)]
    public void Head_major_pages_match_reference(int pageSize, int queries, int threads)
    {
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = threads });
        var shape = new AttentionShape(3, 8, 2, queries, 1300, 64, 40);
        Check<float>(backend, $"paged-hnd-p{pageSize}-q{queries}", shape, pageSize, [1300, 65, 7], sharedPages: 1,
            _ => new() { Causal = CausalMask.BottomRight }, headMajor: true);
        Check<Half>(backend, $"paged-hnd-half-p{pageSize}-q{queries}", shape, pageSize, [1, 1000, 63], sharedPages: 0,
            _ => new() { Causal = CausalMask.BottomRight, Window = new(700, 0) }, headMajor: true);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(64)]
    [InlineData(256)]
    public void Prefill_matches_reference(int pageSize)
    {
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 2 });
        var shape = new AttentionShape(3, 4, 2, 37, 700, 48, 48);
        Check<float>(backend, $"paged-prefill-p{pageSize}", shape, pageSize, [700, 333, 37], sharedPages: 0,
            _ => new() { Causal = CausalMask.BottomRight, Layout = AttentionLayout.Bshd });
    }

    [Theory]
    [InlineData(16, 1)]
    [InlineData(64, 1)]
    [InlineData(64, 20)]
    public void Shared_prefix_pages_match_reference(int pageSize, int queries)
    {
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 2 });
        var shape = new AttentionShape(2, 4, 1, queries, 300, 32, 32);
        Check<float>(backend, $"paged-shared-p{pageSize}-q{queries}", shape, pageSize, [300, 129], sharedPages: 2,
            _ => new() { Causal = CausalMask.BottomRight });
    }

    [Theory]
    [InlineData(1)]
    [InlineData(9)]
    public void Half_matches_reference(int queries)
    {
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 2 });
        Check<Half>(backend, $"paged-half-q{queries}", new AttentionShape(2, 8, 2, queries, 600, 128, 128), 16, [600, 1],
            sharedPages: 0, _ => new() { Causal = CausalMask.BottomRight });
    }

    [Theory]
    [InlineData(1)]
    [InlineData(9)]
    public void BFloat16_matches_reference(int queries)
    {
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 1 });
        Check<BFloat16>(backend, $"paged-bf16-q{queries}", new AttentionShape(2, 4, 4, queries, 513, 64, 64), 64, [513, 0],
            sharedPages: 0, _ => new() { Causal = CausalMask.BottomRight, Layout = AttentionLayout.Bshd });
    }

    [Theory]
    [InlineData(2)]
    [InlineData(6)]
    public void Masks_bias_window_and_softcap_match_reference(int queries)
    {
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 2 });
        var shape = new AttentionShape(2, 6, 3, queries, 530, 40, 24);
        Check<float>(backend, $"paged-options-q{queries}", shape, 64, [530, 200], sharedPages: 0, r => new()
        {
            Mask = new(TestData.RandomMask(r, 2L * queries * 530, 0.85), 2, 1),
            Bias = new(TestData.RandomBias(r, 6L * queries * 530), 1, 6),
            Window = new(300, 0),
            Softcap = 5f,
        });
    }

    /// <summary>
    /// The decode kernel's 256-key blocks across pages that do not divide them (1, 7, 100 positions): a block's rows
    /// from many pages, a page split between two blocks, in both page layouts; lengths 1, 7, 65 and 1000.
    /// </summary>
    [Theory]
    [InlineData(1, false)]
    [InlineData(7, false)]
    [InlineData(7, true)]
    [InlineData(100, true)]
    public void Blocks_spanning_pages_match_reference(int pageSize, bool headMajor)
    {
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 2 });
        var shape = new AttentionShape(4, 8, 2, 1, 1000, 64, 40);
        Check<float>(backend, $"paged-span-p{pageSize}-{headMajor}", shape, pageSize, [1, 1000, 65, 7], sharedPages: 1,
            _ => new(), headMajor);
        Check<Half>(backend, $"paged-span-half-p{pageSize}-{headMajor}", shape, pageSize, [1000, 7, 1, 65], sharedPages: 0,
            _ => new() { Window = new(300, 0), Causal = CausalMask.BottomRight }, headMajor);
    }

    /// <summary>
    /// Keys split between two workers at a key inside a page, and windows that start inside one: blocks that start
    /// and end inside pages.
    /// </summary>
    [Theory]
    [InlineData(16, 1300)]
    [InlineData(64, 1500)]
    [InlineData(256, 1100)]
    public void Blocks_cut_inside_a_page_match_reference(int pageSize, int keys)
    {
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 2 });
        var shape = new AttentionShape(1, 3, 1, 1, keys, 32, 32);
        Check<float>(backend, $"paged-cut-p{pageSize}", shape, pageSize, [keys], sharedPages: 0, _ => new());
        Check<float>(backend, $"paged-cut-window-p{pageSize}", shape, pageSize, [keys], sharedPages: 0,
            _ => new() { Window = new(keys - 37, 0) });
    }

    [Theory]
    [InlineData(CpuKernelVariant.Vector256)]
    [InlineData(CpuKernelVariant.Vector128)]
    [InlineData(CpuKernelVariant.Scalar)]
    public void Each_variant_matches_reference(CpuKernelVariant variant)
    {
        using var backend = new CpuBackend(new CpuBackendOptions { Variant = variant, ThreadCount = 1 });
        Check<float>(backend, "paged-variant", new AttentionShape(2, 4, 2, 1, 300, 33, 33), 16, [300, 17], sharedPages: 1,
            _ => new() { Causal = CausalMask.BottomRight });
    }

    [Fact]
    public void Tensors_match_spans()
    {
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 1 });
        var shape = new AttentionShape(2, 4, 2, 1, 100, 16, 16);
        var random = TestRandom.Create(61);
        var data = PagedTestData<float>.Create(random, shape, 16, [100, 50]);
        var query = TestData.Random<float>(random, shape.QueryElementCount, 1f);
        var expected = TestData.Poison<float>(shape.OutputElementCount);
        backend.PagedScaledDotProductAttention<float>(shape, query, data.KeyPages, data.ValuePages, data.Layout, expected);
        using var q = backend.Upload<float>(query);
        using var k = backend.Upload<float>(data.KeyPages);
        using var v = backend.Upload<float>(data.ValuePages);
        using var o = backend.Upload<float>(TestData.Poison<float>(shape.OutputElementCount));
        using var lse = backend.Upload<float>(TestData.Poison<float>(shape.LogSumExpElementCount));
        backend.PagedScaledDotProductAttention(shape, q, k, v, data.Layout, o, logSumExp: lse);
        Assert.Equal(expected, o.ToArray());
        Assert.All(lse.ToArray(), x => Assert.True(float.IsFinite(x)));
    }

    [Fact]
    public void Page_ids_out_of_range_are_rejected()
    {
        var (shape, data) = Small();
        var table = data.Layout.BlockTable.ToArray();
        table[1] = 99;
        var error = RunExpecting<ArgumentOutOfRangeException>(shape, data, data.Layout with { BlockTable = table });
        Assert.Equal("pages", error.ParamName);
        Assert.Contains("BlockTable[0, 1] is 99", error.Message, StringComparison.Ordinal);
        table[1] = -1;
        Assert.Equal("pages", RunExpecting<ArgumentOutOfRangeException>(shape, data, data.Layout with { BlockTable = table }).ParamName);
    }

    [Fact]
    public void Unread_table_entries_may_hold_anything()
    {
        var (shape, data) = Small();
        Assert.Equal(-1, data.Layout.BlockTable.Span[^1]);
        using var backend = new CpuBackend();
        backend.PagedScaledDotProductAttention<float>(shape, new float[shape.QueryElementCount], data.KeyPages,
            data.ValuePages, data.Layout, new float[shape.OutputElementCount]);
    }

    [Fact]
    public void Lengths_beyond_the_tables_capacity_or_the_shape_are_rejected()
    {
        var (shape, data) = Small();
        var error = RunExpecting<ArgumentOutOfRangeException>(shape, data, data.Layout with { SequenceLengths = new[] { 40, 49 } });
        Assert.Equal("pages", error.ParamName);
        Assert.Contains("SequenceLengths[1] is 49", error.Message, StringComparison.Ordinal);
        Assert.Equal("pages", RunExpecting<ArgumentOutOfRangeException>(
            shape, data, data.Layout with { SequenceLengths = new[] { -1, 5 } }).ParamName);
        var narrow = data.Layout with { PagesPerSequence = 2, BlockTable = new[] { 0, 1, 2, 3 } };
        Assert.Contains("PagesPerSequence·PageSize=32", RunExpecting<ArgumentOutOfRangeException>(
            shape, data, narrow with { SequenceLengths = new[] { 33, 5 } }).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_table_sizes_and_page_sizes_are_rejected()
    {
        var (shape, data) = Small();
        Assert.Equal("pages", RunExpecting<ArgumentException>(shape, data, data.Layout with { BlockTable = new int[5] }).ParamName);
        Assert.Equal("pages", RunExpecting<ArgumentException>(shape, data, data.Layout with { SequenceLengths = new[] { 1 } }).ParamName);
        Assert.Equal("pages", RunExpecting<ArgumentOutOfRangeException>(shape, data, data.Layout with { PageSize = 0 }).ParamName);
        using var backend = new CpuBackend();
        Assert.Throws<ArgumentNullException>(() => backend.PagedScaledDotProductAttention<float>(
            shape, new float[shape.QueryElementCount], data.KeyPages, data.ValuePages, null!, new float[shape.OutputElementCount]));
    }

    [Fact]
    public void Short_pages_options_with_key_lengths_or_strides_and_overlaps_are_rejected()
    {
        var (shape, data) = Small();
        using var backend = new CpuBackend();
        var query = new float[shape.QueryElementCount];
        var output = new float[shape.OutputElementCount];
        Assert.Equal("keyPages", Assert.Throws<ArgumentException>(() => backend.PagedScaledDotProductAttention<float>(
            shape, query, data.KeyPages.AsSpan(0, 10), data.ValuePages, data.Layout, output)).ParamName);
        Assert.Equal("valuePages", Assert.Throws<ArgumentException>(() => backend.PagedScaledDotProductAttention<float>(
            shape, query, data.KeyPages, data.ValuePages.AsSpan(0, 10), data.Layout, output)).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentException>(() => backend.PagedScaledDotProductAttention<float>(
            shape, query, data.KeyPages, data.ValuePages, data.Layout, output, new() { KeyLengths = new[] { 1, 1 } })).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentException>(() => backend.PagedScaledDotProductAttention<float>(
            shape, query, data.KeyPages, data.ValuePages, data.Layout, output,
            new() { KeyStrides = new TensorStrides(0, 8, 16) })).ParamName);
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => backend.PagedScaledDotProductAttention<float>(
            shape, query, data.KeyPages, data.ValuePages, data.Layout, data.KeyPages.AsSpan(0, output.Length))).ParamName);
        Assert.Equal("query", Assert.Throws<ArgumentException>(() => backend.PagedScaledDotProductAttention<float>(
            shape, query.AsSpan(1), data.KeyPages, data.ValuePages, data.Layout, output)).ParamName);
    }

    /// <summary>Two sequences of 40 and 5 keys in 16-key pages, Hkv 2, D 8.</summary>
    private static (AttentionShape Shape, PagedTestData<float> Data) Small()
    {
        var shape = new AttentionShape(2, 4, 2, 1, 48, 8, 8);
        return (shape, PagedTestData<float>.Create(TestRandom.Create(62), shape, 16, [40, 5]));
    }

    private static TException RunExpecting<TException>(AttentionShape shape, PagedTestData<float> data, PagedKeyValueLayout layout)
        where TException : Exception
    {
        using var backend = new CpuBackend();
        var output = TestData.Poison<float>(shape.OutputElementCount);
        var error = Assert.Throws<TException>(() => backend.PagedScaledDotProductAttention<float>(
            shape, new float[shape.QueryElementCount], data.KeyPages, data.ValuePages, layout, output));
        Assert.All(output, x => Assert.True(float.IsNaN(x), "nothing is written before the call is rejected"));
        return error;
    }

    private static void Check<T>(
        CpuBackend backend, string name, AttentionShape shape, int pageSize, int[] lengths, int sharedPages,
        Func<Random, AttentionOptions> build, bool headMajor = false)
        where T : unmanaged
    {
        double tolerance = typeof(T) == typeof(Half) ? 1.5e-3 : typeof(T) == typeof(BFloat16) ? 1e-2 : 1e-5;
        PagedTestData<T>.Check(backend, name, shape, pageSize, lengths, sharedPages, build, headMajor, tolerance, 2e-5);
    }
}
