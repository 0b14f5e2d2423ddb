using System.Globalization;
using System.Text.RegularExpressions;
using Attention.Native.Cuda.Hopper;
using Attention.Native.Validation;

namespace Attention.Native.Tests.Cuda;

/// <summary>
/// The sm_90a kernel's host side without a GPU: each bucket's shared memory is what the kernel declares in its
/// embedded PTX, the tensor maps' dims and byte strides for both layouts and for extent-1 dimensions, and what the
/// kernel refuses, naming the option.
/// </summary>
public sealed partial class HopperAttentionGeometryTests
{
    /// <summary>The PTX states each entry's launch (<c>// kernel-report: threads 384 dynamic-smem N</c>, from the
    /// kernel's own traits): the launcher asks for the same.</summary>
    [Fact]
    public void Each_bucket_asks_for_the_shared_memory_its_kernel_declares()
    {
        string ptx = PtxResourceTests.ReadResource(AttentionHopperKernels.PtxResourceName);
        var declared = LaunchPattern().Matches(ptx).ToDictionary(
            m => m.Groups["name"].Value,
            m => (Threads: int.Parse(m.Groups["threads"].Value, CultureInfo.InvariantCulture), Bytes: int.Parse(m.Groups["bytes"].Value, CultureInfo.InvariantCulture)));
        for (int i = 0; i < AttentionHopperGeometry.Tiles.Length; i++)
        {
            var tile = AttentionHopperGeometry.Tiles[i];
            foreach (string entry in new[] { AttentionHopperKernels.EntryPoints[i].F16, AttentionHopperKernels.EntryPoints[i].Bf16 })
            {
                Assert.True(declared.ContainsKey(entry), entry);
                Assert.Equal((AttentionHopperTile.Threads, tile.SharedBytes), declared[entry]);
            }
        }

        Assert.All(AttentionHopperGeometry.Tiles, t => Assert.True(t.SharedBytes <= 227 * 1024, $"{t}: {t.SharedBytes} bytes"));
    }

    [Fact]
    public void Bhsd_tensor_maps_step_rows_heads_and_batches_in_bytes()
    {
        var strides = TensorStrides.Contiguous(AttentionLayout.Bhsd, heads: 3, length: 5, dim: 64);
        var shape = HopperTensorMapShape.Of(2, 3, 5, 64, strides, 128);
        Assert.Equal((64UL, 5UL, 3UL, 2UL), shape.Dims);
        Assert.Equal((128UL, 640UL, 1920UL), shape.Strides);
        Assert.Equal(128U, shape.BoxRows);
    }

    [Fact]
    public void Bshd_tensor_maps_keep_the_interleaved_strides()
    {
        var strides = TensorStrides.Contiguous(AttentionLayout.Bshd, heads: 4, length: 7, dim: 128);
        var shape = HopperTensorMapShape.Of(2, 4, 7, 128, strides, 64);
        Assert.Equal((128UL, 7UL, 4UL, 2UL), shape.Dims);
        Assert.Equal((4UL * 128 * 2, 128UL * 2, 7UL * 4 * 128 * 2), shape.Strides);
    }

    [Fact]
    public void Extent_one_dimensions_get_packed_strides_that_tma_accepts()
    {
        // A view whose one batch entry, head and row have strides TMA would reject (0, unaligned): never stepped along.
        var shape = HopperTensorMapShape.Of(1, 1, 1, 72, new TensorStrides(0, 0, 0), 128);
        Assert.Equal((72UL, 1UL, 1UL, 1UL), shape.Dims);
        Assert.Equal((144UL, 144UL, 144UL), shape.Strides);
        Assert.All(new[] { shape.Strides.Sequence, shape.Strides.Head, shape.Strides.Batch }, s => Assert.Equal(0UL, s % 16));
    }

    [Theory]
    [InlineData(64, 64, 64)]
    [InlineData(1, 1, 64)]
    [InlineData(80, 64, 128)]
    [InlineData(128, 128, 128)]
    [InlineData(96, 200, 256)]
    [InlineData(256, 256, 256)]
    public void The_smallest_bucket_holds_both_head_dims(int headDim, int valueHeadDim, int bucket) =>
        Assert.Equal(bucket, AttentionHopperGeometry.TileFor(headDim, valueHeadDim)!.Value.HeadDim);

    [Fact]
    public void Half_and_bfloat16_with_every_key_range_option_are_supported()
    {
        var shape = new AttentionShape(2, 8, 2, 300, 500, 128, 128);
        var options = new AttentionOptions
        {
            Causal = CausalMask.BottomRight, Window = new SlidingWindow(64, 0), Softcap = 30, KeyLengths = new[] { 400, 17 },
        };
        var problem = Problem(shape, options, lse: true);
        Assert.True(AttentionHopperGeometry.Supports(problem, typeof(Half), out string? reason), reason);
        Assert.True(AttentionHopperGeometry.Supports(problem, typeof(BFloat16), out reason), reason);
    }

    [Fact]
    public void A_mask_or_bias_sinks_paging_varlen_float_operands_and_wide_heads_name_the_reason()
    {
        var shape = new AttentionShape(1, 2, 2, 16, 16, 64, 64);
        var masked = Problem(shape, new AttentionOptions { Mask = new AttentionMask(new bool[16 * 16]) });
        Assert.False(AttentionHopperGeometry.Supports(masked, typeof(Half), out string? reason));
        Assert.Contains("mask or bias", reason, StringComparison.Ordinal);
        Assert.False(AttentionHopperGeometry.Supports(Problem(shape, AttentionOptions.Default), typeof(float), out reason));
        Assert.Contains("Half and BFloat16", reason, StringComparison.Ordinal);
        Assert.False(AttentionHopperGeometry.Supports(Problem(new(1, 2, 2, 16, 16, 264, 264), AttentionOptions.Default), typeof(Half), out reason));
        Assert.Contains("head dims up to 256", reason, StringComparison.Ordinal);
        Assert.False(AttentionHopperGeometry.Supports(Problem(new(1, 2, 2, 16, 16, 60, 60), AttentionOptions.Default), typeof(Half), out reason));
        Assert.Contains("multiples of 8 elements", reason, StringComparison.Ordinal);
        var sinks = Problem(shape, new AttentionOptions { Sinks = new[] { 0.5f, -1f } });
        Assert.False(AttentionHopperGeometry.Supports(sinks, typeof(Half), out reason));
        Assert.Contains("takes no attention sinks:", reason, StringComparison.Ordinal);
        var paged = sinks with { Paging = new KeyValuePaging { PageSize = 16, PagesPerSequence = 1, BlockTable = [0] } };
        Assert.False(AttentionHopperGeometry.Supports(paged, typeof(Half), out reason));
        Assert.Contains("takes no paged K/V", reason, StringComparison.Ordinal);
        var varlen = Problem(shape, AttentionOptions.Default) with { Varlen = new VarlenOffsets([0, 16], [0, 16]) };
        Assert.False(AttentionHopperGeometry.Supports(varlen, typeof(Half), out reason));
        Assert.Contains("takes no varlen offsets", reason, StringComparison.Ordinal);
    }

    private static AttentionProblem Problem(AttentionShape shape, AttentionOptions options, bool lse = false) =>
        AttentionValidator.Validate(shape, options, new(
            shape.QueryElementCount, shape.KeyElementCount, shape.ValueElementCount, shape.OutputElementCount,
            lse ? shape.LogSumExpElementCount : -1, -1));

    [GeneratedRegex(@"^\.visible \.entry (?<name>\w+)\((?:[^{]*?)\{(?:[^\n]*\n)*?\s*// kernel-report: threads (?<threads>\d+) dynamic-smem (?<bytes>\d+)", RegexOptions.Multiline)]
    private static partial Regex LaunchPattern();
}
