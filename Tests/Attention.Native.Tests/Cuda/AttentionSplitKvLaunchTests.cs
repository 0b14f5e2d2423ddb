using Attention.Native.Cuda.Interop;
using Attention.Native.Cuda.SplitKv;
using Attention.Native.Cuda;

namespace Attention.Native.Tests.Cuda;

/// <summary>
/// The split-KV launches without a GPU: the split heuristic (fill two waves of SMs, at least 128 keys a split, at most
/// 128 splits), the rows per block (8 on the tensor cores, 4 on the FMA pipes), the grids and shared memory of
/// Native/README.md (the kernel's static_asserts hold the same numbers), the workspace, and the limits' messages.
/// </summary>
public sealed class AttentionSplitKvLaunchTests
{
    private static readonly KernelLimits H200Like = new(MaxDynamicSharedBytes: 232448, MaxGridY: 65535, MaxGridZ: 65535);

    /// <summary>sm_86 and sm_89 (RTX 30x0/40x0): the least shared memory an sm_80+ GPU gives a block.</summary>
    private static readonly KernelLimits Sm86Like = H200Like with { MaxDynamicSharedBytes = 101376 };

    private const int H200Sms = 132;

    [Theory]
    [InlineData(1, 32, 8, 1, 32768, 33, 33)]      // 8 blocks: ⌈264 / 8⌉
    [InlineData(1, 32, 8, 1, 4096, 32, 32)]       // capped by 4096 / 128 keys
    [InlineData(1, 32, 8, 1, 131072, 33, 33)]
    [InlineData(8, 32, 8, 1, 32768, 5, 5)]        // 64 blocks: ⌈264 / 64⌉
    [InlineData(64, 32, 8, 1, 32768, 1, 1)]       // 512 blocks fill two waves already
    [InlineData(1, 1, 1, 1, 100000, 128, 128)]    // at most 128
    [InlineData(1, 8, 2, 1, 127, 1, 1)]           // under 128 keys: nothing to split
    [InlineData(1, 16, 1, 16, 32768, 9, 5)]       // 16·16 rows: 32 row chunks of 8 (⌈264 / 32⌉), 64 of 4
    [InlineData(1, 64, 8, 1, 32768, 33, 17)]      // group 8: one chunk of 8, two of 4
    public void Splits_fill_two_waves_of_SMs(
        int batch, int heads, int kvHeads, int queryLength, int keyLength, int expectedHalf, int expectedFloat)
    {
        var problem = Problem(new(batch, heads, kvHeads, queryLength, keyLength, 128, 128));
        Assert.Equal(expectedHalf, AttentionSplitKvGeometry.Splits(problem, typeof(Half), H200Sms));
        Assert.Equal(expectedHalf, AttentionSplitKvGeometry.Splits(problem, typeof(BFloat16), H200Sms));
        Assert.Equal(expectedFloat, AttentionSplitKvGeometry.Splits(problem, typeof(float), H200Sms));
    }

    /// <summary>16-bit blocks: each warp's ring of 8-key stages (rows padded to 16 columns + 8), one stage read and
    /// 12 KiB in flight, as deep as fits 99 KiB beside Q's tile (9 rows), at most 8 — the numbers
    /// attention_splitkv_mma.cuh asserts.</summary>
    [Theory]
    [InlineData(128, 128, 4, 72080)]   // 1 + ⌈12,288 / 4,352⌉ stages: 4 · 4 · 8 · (136 + 136) · 2 + 9 · 136 · 2
    [InlineData(256, 256, 2, 72336)]   // 2 fit: 4 · 2 · 8 · (264 + 264) · 2 + 9 · 264 · 2
    [InlineData(192, 192, 3, 80400)]
    [InlineData(64, 64, 7, 65808)]     // 1 + ⌈12,288 / 2,304⌉
    [InlineData(96, 96, 5, 68432)]
    [InlineData(1, 1, 8, 25008)]       // at most 8
    [InlineData(256, 40, 4, 86672)]
    public void Tensor_core_rings_fit_every_sm80_GPU(int headDim, int valueHeadDim, int stages, long bytes)
    {
        Assert.Equal(stages, AttentionSplitKvGeometry.TensorCoreStages(headDim, valueHeadDim));
        Assert.Equal(bytes, AttentionSplitKvGeometry.SharedBytes(typeof(Half), headDim, valueHeadDim));
        Assert.Equal(bytes, AttentionSplitKvGeometry.SharedBytes(typeof(BFloat16), headDim, valueHeadDim));
        Assert.InRange(bytes, 0, Sm86Like.MaxDynamicSharedBytes);
    }

    [Fact]
    public void Every_supported_head_dim_fits_sm86_with_at_least_two_stages()
    {
        for (int d = 1; d <= AttentionSplitKvGeometry.MaxHeadDim; d++)
        {
            foreach (int dv in new[] { 1, d, AttentionSplitKvGeometry.MaxHeadDim })
            {
                Assert.InRange(AttentionSplitKvGeometry.TensorCoreStages(d, dv), 2, AttentionSplitKvGeometry.TensorCoreMaxStages);
                var launch = AttentionSplitKvGeometry.Configure(Problem(new(1, 8, 2, 1, 4096, d, dv)), typeof(Half), Sm86Like, 84, 0);
                Assert.InRange(launch.Partial.SharedMemoryBytes, 1u, (uint)Sm86Like.MaxDynamicSharedBytes);
            }
        }
    }

    [Fact]
    public void Launches_match_Native_README()
    {
        // Group 6 · Lq 5 = 30 rows: 4 row chunks of 8; 3 · 2 · 4 = 24 blocks, 2 · 20 SMs: ⌈40 / 24⌉ = 2 splits.
        var launch = AttentionSplitKvGeometry.Configure(Problem(new(3, 12, 2, 5, 2000, 64, 40)), typeof(Half), H200Like, 20, stream: 7);
        Assert.Equal(2, launch.Splits);
        var p = launch.Partial;
        Assert.Equal((8u, 2u, 3u, 128u, 1u, 1u), (p.GridX, p.GridY, p.GridZ, p.BlockX, p.BlockY, p.BlockZ));
        Assert.Equal((4u * 7 * 8 * (72 + 56) * 2) + (9 * 72 * 2), p.SharedMemoryBytes);  // 1 + ⌈12,288 / 2,048⌉ stages
        Assert.Equal(7, p.Stream);
        var m = launch.Merge;
        Assert.Equal((15u, 3u, 1u, 128u, 0u), (m.GridX, m.GridY, m.GridZ, m.BlockX, m.SharedMemoryBytes));
        long rows = 3 * 12 * 5;
        Assert.Equal(2 * rows * 40, launch.LseOffset);  // 14400: already a multiple of 64 floats
        Assert.Equal((2 * rows * 40) + (2 * rows), launch.WorkspaceFloats);

        // Float: 30 rows in 8 chunks of 4; 48 blocks ≥ 40: one split, no merge, no workspace.
        var single = AttentionSplitKvGeometry.Configure(Problem(new(3, 12, 2, 5, 2000, 64, 40)), typeof(float), H200Like, 20, stream: 7);
        Assert.Equal((1, 0L), (single.Splits, single.WorkspaceFloats));
        Assert.Equal((8u, 2u, 3u, 98304u), (single.Partial.GridX, single.Partial.GridY, single.Partial.GridZ, single.Partial.SharedMemoryBytes));
    }

    [Fact]
    public void One_split_needs_no_workspace()
    {
        var launch = AttentionSplitKvGeometry.Configure(Problem(new(64, 32, 8, 1, 4096, 128, 128)), typeof(BFloat16), H200Like, H200Sms, 0);
        Assert.Equal((1, 0L), (launch.Splits, launch.WorkspaceFloats));
    }

    [Fact]
    public void Head_dims_beyond_256_are_not_supported_and_named()
    {
        var error = Assert.Throws<NotSupportedException>(
            () => AttentionSplitKvGeometry.Configure(Problem(new(1, 1, 1, 1, 300, 264, 64)), typeof(Half), H200Like, 132, 0));
        Assert.Contains("shape.HeadDim = 264", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Shared_memory_beyond_the_device_is_not_supported_and_named()
    {
        var limits = H200Like with { MaxDynamicSharedBytes = 64 * 1024 };
        var error = Assert.Throws<NotSupportedException>(
            () => AttentionSplitKvGeometry.Configure(Problem(new(1, 1, 1, 1, 300, 256, 256)), typeof(float), limits, 132, 0));
        Assert.Contains("98304 bytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("65536", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Kv_heads_and_batches_beyond_the_grid_are_not_supported_and_named()
    {
        var limits = H200Like with { MaxGridY = 2, MaxGridZ = 3 };
        var heads = Assert.Throws<NotSupportedException>(() => AttentionSplitKvGeometry.Configure(Problem(new(1, 3, 3, 1, 400, 8, 8)), typeof(Half), limits, 132, 0));
        Assert.Contains("shape.KeyValueHeads = 3", heads.Message, StringComparison.Ordinal);
        var batch = Assert.Throws<NotSupportedException>(() => AttentionSplitKvGeometry.Configure(Problem(new(3, 2, 2, 1, 400, 8, 8)), typeof(float), limits, 132, 0));
        Assert.Contains("shape.Batch = 3", batch.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Both split-KV kernels take the attention family's struct, with the workspace fields Native/README.md documents
    /// for them: the merge reads the parameters of the partial pass it merges.
    /// </summary>
    [Fact]
    public void Both_kernels_take_the_attention_params_with_the_workspace()
    {
        Assert.Contains("attention_splitkv_partial_f32", AttentionParams<float>.Kernels);
        Assert.Contains("attention_splitkv_merge_f32", AttentionParams<float>.Kernels);
        Assert.Contains("attention_splitkv_partial_f16", AttentionParams<Half>.Kernels);
        Assert.Contains("attention_splitkv_merge_f16", AttentionParams<Half>.Kernels);
        Assert.Contains("attention_splitkv_partial_bf16", AttentionParams<BFloat16>.Kernels);
        Assert.Contains("attention_splitkv_merge_bf16", AttentionParams<BFloat16>.Kernels);
        var fields = AttentionSimtLaunchTests.StructFields("AttentionParams").Select(f => f.Name);
        Assert.Contains("partial_o", fields);
        Assert.Contains("partial_lse", fields);
        Assert.Contains("num_splits", fields);
    }

    /// <summary>The generated name lookups exist for both kernels and every element type, named as the README says.</summary>
    [Fact]
    public void Generated_names_pick_the_kernels_per_element_type()
    {
        Assert.Equal(
            ["attention_splitkv_partial_f32", "attention_splitkv_partial_f16", "attention_splitkv_partial_bf16"],
            [KernelNames.AttentionSplitkvPartialName<float>(), KernelNames.AttentionSplitkvPartialName<Half>(), KernelNames.AttentionSplitkvPartialName<BFloat16>()]);
        Assert.Equal(
            ["attention_splitkv_merge_f32", "attention_splitkv_merge_f16", "attention_splitkv_merge_bf16"],
            [KernelNames.AttentionSplitkvMergeName<float>(), KernelNames.AttentionSplitkvMergeName<Half>(), KernelNames.AttentionSplitkvMergeName<BFloat16>()]);
    }

    private static Attention.Native.Validation.AttentionProblem Problem(AttentionShape shape) => CudaKernelSelectorTests.Problem(shape);
}
