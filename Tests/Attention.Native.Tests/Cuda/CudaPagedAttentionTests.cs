using Attention.Native.Cuda;

namespace Attention.Native.Tests.Cuda;

/// <summary>
/// Paged K/V (<see cref="PagedKeyValueLayout"/>) on the CUDA backend against the float64 reference of the same rows laid
/// out contiguously: page sizes 16, 64 and 256 (and 7 and 12, which only some kernels take), sequence lengths 1, 7, 65
/// and 1000, pages out of order, pages shared between sequences, head-major pages, GQA, causal, decode (split-KV) and
/// prefill (mma, or SIMT where the page size is not a multiple of the mma key block), float, Half and BFloat16, each
/// kernel forced in turn; then the page sizes a forced kernel refuses, naming the page size.
/// </summary>
[Trait("Device", "Cuda")]
public sealed class CudaPagedAttentionTests
{
    public static TheoryData<int, string> PageSizesAndTypes()
    {
        var data = new TheoryData<int, string>();
        foreach (int pageSize in new[] { 16, 64, 256 })
        {
            foreach (string type in new[] { "float", "half", "bf16" })
            {
                data.Add(pageSize, type);
            }
        }

        return data;
    }

    /// <summary>Decode (Lq 1, split-KV), GQA 8/2, sequences of 1000, 65, 7 and 1 keys, causal bottom-right.</summary>
    [CudaTheory]
    [MemberData(nameof(PageSizesAndTypes))]
    public void Decode_matches_reference(int pageSize, string type)
    {
        var shape = new AttentionShape(4, 8, 2, 1, 1000, 64, 64);
        Check(type, null, $"cuda-paged-decode-p{pageSize}", shape, pageSize, [1000, 65, 7, 1], sharedPages: 0,
            _ => new() { Causal = CausalMask.BottomRight });
    }

    /// <summary>Prefill (Lq 37: mma for 16-bit at page sizes 64 and 256, SIMT at 16 and for float).</summary>
    [CudaTheory]
    [MemberData(nameof(PageSizesAndTypes))]
    public void Prefill_matches_reference(int pageSize, string type)
    {
        var shape = new AttentionShape(3, 4, 2, 37, 300, 64, 64);
        Check(type, null, $"cuda-paged-prefill-p{pageSize}", shape, pageSize, [300, 65, 37], sharedPages: 0,
            _ => new() { Causal = CausalMask.BottomRight, Layout = AttentionLayout.Bshd });
    }

    /// <summary>Every kernel that reads pages, forced, on shared prefix pages and head-major pages.</summary>
    [CudaTheory]
    [InlineData("simt", "float")]
    [InlineData("simt", "half")]
    [InlineData("splitkv", "float")]
    [InlineData("splitkv", "half")]
    [InlineData("splitkv", "bf16")]
    [InlineData("mma", "half")]
    [InlineData("mma", "bf16")]
    [InlineData("mma", "float")]
    public void Forced_kernels_match_reference(string forced, string type)
    {
        var kernel = CudaKernelSelector.ParseForced(forced);
        var shape = new AttentionShape(2, 4, 1, 5, 400, 64, 64);
        string name = $"cuda-paged-forced-{forced}";
        Check(type, kernel, name + "-shared", shape, 64, [400, 129], sharedPages: 2,
            _ => new() { Causal = CausalMask.BottomRight });
        Check(type, kernel, name + "-hnd", shape, 64, [7, 400], sharedPages: 0,
            _ => new() { Causal = CausalMask.BottomRight }, headMajor: true);
    }

    /// <summary>
    /// A window that starts inside a page and inside an 8-key stage, a mask, a bias and a soft cap (split-KV decode
    /// and the mma prefill).
    /// </summary>
    [CudaTheory]
    [InlineData(1, "half")]
    [InlineData(1, "float")]
    [InlineData(20, "bf16")]
    public void Window_mask_bias_and_softcap_match_reference(int queries, string type)
    {
        var shape = new AttentionShape(2, 6, 3, queries, 530, 64, 64);
        Check(type, null, $"cuda-paged-options-q{queries}", shape, 64, [530, 200], sharedPages: 0, r => new()
        {
            Mask = new(TestData.RandomMask(r, 2L * queries * 530, 0.85), 2, 1),
            Bias = new(TestData.RandomBias(r, 6L * queries * 530), 1, 6),
            Window = new(301, 0),
            Softcap = 5f,
        });
    }

    /// <summary>Page sizes no key block divides: 7 (SIMT, and the float split-KV path) and 12.</summary>
    [CudaTheory]
    [InlineData(7, "float", 1)]
    [InlineData(7, "half", 1)]
    [InlineData(12, "bf16", 3)]
    [InlineData(12, "half", 40)]
    public void Odd_page_sizes_match_reference(int pageSize, string type, int queries)
    {
        var shape = new AttentionShape(2, 4, 2, queries, 200, 32, 32);
        Check(type, null, $"cuda-paged-odd-p{pageSize}-q{queries}", shape, pageSize, [200, 65], sharedPages: 1,
            _ => new() { Causal = CausalMask.BottomRight });
    }

    [CudaFact]
    public void Tensors_match_spans()
    {
        using var backend = new CudaBackend();
        var shape = new AttentionShape(2, 4, 2, 1, 300, 64, 64);
        var random = TestRandom.Create(TestRandom.SeedOf("cuda-paged-tensors"));
        var data = PagedTestData<Half>.Create(random, shape, 16, [300, 50]);
        var query = TestData.Random<Half>(random, shape.QueryElementCount, 1f);
        var expected = TestData.Poison<Half>(shape.OutputElementCount);
        var expectedLse = TestData.Poison<float>(shape.LogSumExpElementCount);
        backend.PagedScaledDotProductAttention<Half>(
            shape, query, data.KeyPages, data.ValuePages, data.Layout, expected, logSumExp: expectedLse);
        using var q = backend.Upload<Half>(query);
        using var k = backend.Upload<Half>(data.KeyPages);
        using var v = backend.Upload<Half>(data.ValuePages);
        using var o = backend.Upload<Half>(TestData.Poison<Half>(shape.OutputElementCount));
        using var lse = backend.Upload<float>(TestData.Poison<float>(shape.LogSumExpElementCount));
        backend.PagedScaledDotProductAttention(shape, q, k, v, data.Layout, o, logSumExp: lse);
        Assert.Equal(expected, o.ToArray());
        Assert.Equal(expectedLse, lse.ToArray());
    }

    [CudaTheory]
    [InlineData("mma", 16, "pages.PageSize = 16 must be a multiple of 64")]
    [InlineData("splitkv", 12, "pages.PageSize = 12 must be a multiple of 8")]
    [InlineData("hopper", 64, "paged K/V")]
    public void Forced_kernels_that_cannot_read_the_pages_throw_naming_them(string forced, int pageSize, string expected)
    {
        using var backend = new CudaBackend(
            new CudaBackendOptions { Kernel = CudaKernelSelector.ParseForced(forced) }, "forced by the test");
        var shape = new AttentionShape(2, 4, 2, 1, 200, 64, 64);
        var data = PagedTestData<Half>.Create(TestRandom.Create(64), shape, pageSize, [200, 5]);
        var output = TestData.Poison<Half>(shape.OutputElementCount);
        var error = Assert.Throws<NotSupportedException>(() => backend.PagedScaledDotProductAttention<Half>(
            shape, new Half[shape.QueryElementCount], data.KeyPages, data.ValuePages, data.Layout, output));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.All(output, x => Assert.True(Half.IsNaN(x), "nothing is written before the call is rejected"));
    }

    [CudaFact]
    public void Bad_tables_are_rejected_before_anything_is_written()
    {
        using var backend = new CudaBackend();
        var shape = new AttentionShape(2, 4, 2, 1, 48, 8, 8);
        var data = PagedTestData<float>.Create(TestRandom.Create(63), shape, 16, [40, 5]);
        var output = TestData.Poison<float>(shape.OutputElementCount);
        var table = data.Layout.BlockTable.ToArray();
        table[0] = 99;
        Assert.Equal("pages", Assert.Throws<ArgumentOutOfRangeException>(() => backend.PagedScaledDotProductAttention<float>(
            shape, new float[shape.QueryElementCount], data.KeyPages, data.ValuePages, data.Layout with { BlockTable = table },
            output)).ParamName);
        Assert.All(output, x => Assert.True(float.IsNaN(x)));
    }

    private static void Check(
        string type, CudaAttentionKernel? kernel, string name, AttentionShape shape, int pageSize, int[] lengths,
        int sharedPages, Func<Random, AttentionOptions> build, bool headMajor = false)
    {
        switch (type)
        {
            case "half":
                Check<Half>(kernel, name, shape, pageSize, lengths, sharedPages, build, headMajor, 1.5e-3);
                break;
            case "bf16":
                Check<BFloat16>(kernel, name, shape, pageSize, lengths, sharedPages, build, headMajor, 1e-2);
                break;
            default:
                // The forced mma kernel runs float as TF32 (inputs rounded to a 10-bit mantissa).
                Check<float>(kernel, name, shape, pageSize, lengths, sharedPages, build, headMajor,
                    kernel == CudaAttentionKernel.Mma ? 5e-4 : 1e-5);
                break;
        }
    }

    private static void Check<T>(
        CudaAttentionKernel? kernel, string name, AttentionShape shape, int pageSize, int[] lengths, int sharedPages,
        Func<Random, AttentionOptions> build, bool headMajor, double tolerance)
        where T : unmanaged
    {
        CudaTestEnvironment.SkipUnlessAvailable();
        using var backend = new CudaBackend(
            new CudaBackendOptions { Kernel = kernel, AllowTensorFloat32 = kernel == CudaAttentionKernel.Mma },
            "chosen by the test");
        // TF32 (the forced mma kernel's float path) rounds the scores' inputs: its log-sum-exp moves as its output does.
        double lseTolerance = kernel == CudaAttentionKernel.Mma && typeof(T) == typeof(float) ? 5e-4 : 2e-5;
        PagedTestData<T>.Check(backend, name, shape, pageSize, lengths, sharedPages, build, headMajor, tolerance, lseTolerance);
    }
}
