using Attention.Native.Cuda;
using Attention.Native.Validation;

namespace Attention.Native.Tests.Cuda;

/// <summary>
/// The CUDA backend's kernel choice without a GPU: the environment variable's values, the automatic choice, forced
/// kernels that cannot run a problem (NotSupportedException naming the option, never a fallback), and probabilities
/// always on SIMT.
/// </summary>
[Trait("Device", "Cuda")]
public sealed class CudaKernelSelectorTests
{
    [Theory]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData("  ", null)]
    [InlineData("auto", null)]
    [InlineData("simt", CudaAttentionKernel.Simt)]
    [InlineData("SplitKV", CudaAttentionKernel.SplitKv)]
    [InlineData(" splitkv ", CudaAttentionKernel.SplitKv)]
    [InlineData("mma", CudaAttentionKernel.Mma)]
    [InlineData("Hopper", CudaAttentionKernel.Hopper)]
    internal void Environment_values_name_the_kernels(string? value, CudaAttentionKernel? expected) =>
        Assert.Equal(expected, CudaKernelSelector.ParseForced(value));

    [Theory]
    [InlineData("tensorcore")]
    [InlineData("1")]
    [InlineData("split-kv")]
    public void Unknown_environment_values_are_rejected_with_the_choices(string value)
    {
        var error = Assert.Throws<ArgumentException>(() => CudaKernelSelector.ParseForced(value));
        Assert.Contains($"ATTENTION_NATIVE_CUDA_KERNEL='{value}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("simt, splitkv, mma, hopper", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1, 1, 1, 1, 128, 64, CudaAttentionKernel.SplitKv)]
    [InlineData(1, 32, 8, 1, 131072, 128, CudaAttentionKernel.SplitKv)]
    [InlineData(4, 8, 2, 16, 4096, 256, CudaAttentionKernel.SplitKv)]
    [InlineData(1, 8, 2, 17, 4096, 128, CudaAttentionKernel.Simt)]
    [InlineData(1, 8, 2, 1, 127, 128, CudaAttentionKernel.Simt)]
    [InlineData(1, 8, 2, 1, 4096, 257, CudaAttentionKernel.Simt)]
    [InlineData(2, 4, 4, 512, 512, 64, CudaAttentionKernel.Simt)]
    internal void Automatic_choice_is_split_kv_for_decode_with_long_keys(
        int batch, int heads, int kvHeads, int queryLength, int keyLength, int headDim, CudaAttentionKernel expected) =>
        Assert.Equal(expected, CudaKernelSelector.Select(Problem(new(batch, heads, kvHeads, queryLength, keyLength, headDim, headDim)), null, typeof(float)));

    [Theory]
    [InlineData(null)]
    [InlineData(CudaAttentionKernel.SplitKv)]
    [InlineData(CudaAttentionKernel.Mma)]
    internal void Probabilities_always_go_to_simt(CudaAttentionKernel? forced) =>
        Assert.Equal(CudaAttentionKernel.Simt, CudaKernelSelector.Select(Problem(new(1, 8, 2, 1, 4096, 128, 128), probabilities: true), forced, typeof(float)));

    [Fact]
    public void Forced_simt_runs_everything()
    {
        Assert.Equal(CudaAttentionKernel.Simt, CudaKernelSelector.Select(Problem(new(1, 8, 2, 1, 4096, 128, 128)), CudaAttentionKernel.Simt, typeof(float)));
        Assert.Equal(CudaAttentionKernel.Simt, CudaKernelSelector.Select(Problem(new(1, 1, 1, 4, 4, 1024, 1024)), CudaAttentionKernel.Simt, typeof(float)));
    }

    [Fact]
    public void Forced_split_kv_runs_short_keys_too()
    {
        Assert.Equal(CudaAttentionKernel.SplitKv, CudaKernelSelector.Select(Problem(new(1, 2, 1, 16, 3, 7, 9)), CudaAttentionKernel.SplitKv, typeof(float)));
    }

    [Theory]
    [InlineData(17, 64, 64, "shape.QueryLength up to 16, not 17")]
    [InlineData(1, 320, 64, "shape.HeadDim and shape.ValueHeadDim up to 256, not 320 and 64")]
    [InlineData(1, 64, 512, "shape.HeadDim and shape.ValueHeadDim up to 256, not 64 and 512")]
    public void Forced_split_kv_that_cannot_run_names_the_option(int queryLength, int headDim, int valueHeadDim, string expected)
    {
        var error = Assert.Throws<NotSupportedException>(() => CudaKernelSelector.Select(
            Problem(new(1, 4, 2, queryLength, 500, headDim, valueHeadDim)), CudaAttentionKernel.SplitKv, typeof(float)));
        Assert.Contains("ATTENTION_NATIVE_CUDA_KERNEL=splitkv", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Forced_mma_on_float_operands_without_tf32_names_the_option()
    {
        var error = Assert.Throws<NotSupportedException>(() => CudaKernelSelector.Select(
            Problem(new(1, 4, 4, 512, 512, 64, 64)), CudaAttentionKernel.Mma, typeof(float)));
        Assert.Contains("ATTENTION_NATIVE_CUDA_KERNEL=mma", error.Message, StringComparison.Ordinal);
        Assert.Contains("AllowTensorFloat32", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Forced_mma_on_float_operands_with_tf32_runs_them()
    {
        var problem = Problem(new(1, 4, 4, 512, 512, 64, 64));
        Assert.Equal(
            CudaAttentionKernel.Mma,
            CudaKernelSelector.Select(problem, CudaAttentionKernel.Mma, typeof(float), allowTensorFloat32: true));
        var error = Assert.Throws<NotSupportedException>(() => CudaKernelSelector.Select(
            Problem(new(1, 4, 4, 100, 100, 34, 34)), CudaAttentionKernel.Mma, typeof(float), allowTensorFloat32: true));
        Assert.Contains("multiples of 4 elements", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2, 4, 4, 512, 512, 64, CudaAttentionKernel.Mma)]
    [InlineData(1, 8, 8, 1000, 1000, 256, CudaAttentionKernel.Mma)]
    [InlineData(1, 8, 8, 100, 100, 36, CudaAttentionKernel.Mma)]
    [InlineData(1, 8, 8, 100, 100, 63, CudaAttentionKernel.Simt)]
    [InlineData(1, 8, 8, 1000, 1000, 264, CudaAttentionKernel.Simt)]
    [InlineData(1, 32, 8, 1, 4096, 128, CudaAttentionKernel.SplitKv)]
    internal void Automatic_choice_for_float_uses_tf32_only_when_allowed(
        int batch, int heads, int kvHeads, int queryLength, int keyLength, int headDim, CudaAttentionKernel allowed)
    {
        var problem = Problem(new(batch, heads, kvHeads, queryLength, keyLength, headDim, headDim));
        Assert.Equal(allowed, CudaKernelSelector.Select(problem, null, typeof(float), allowTensorFloat32: true));
        var exact = CudaKernelSelector.Select(problem, null, typeof(float));
        Assert.Equal(allowed == CudaAttentionKernel.Mma ? CudaAttentionKernel.Simt : allowed, exact);
        Assert.Equal(
            CudaAttentionKernel.Simt,
            CudaKernelSelector.Select(Problem(problem.Shape, probabilities: true), null, typeof(float), allowTensorFloat32: true));
    }

    [Theory]
    [InlineData(2, 4, 4, 512, 512, 64, CudaAttentionKernel.Mma)]
    [InlineData(1, 32, 8, 17, 4096, 128, CudaAttentionKernel.Mma)]
    [InlineData(1, 8, 8, 1000, 1000, 256, CudaAttentionKernel.Mma)]
    [InlineData(1, 8, 8, 1000, 1000, 264, CudaAttentionKernel.Simt)]
    [InlineData(1, 8, 8, 100, 100, 63, CudaAttentionKernel.Simt)]
    [InlineData(1, 32, 8, 1, 4096, 128, CudaAttentionKernel.SplitKv)]
    internal void Automatic_choice_for_half_and_bfloat16_prefers_mma(
        int batch, int heads, int kvHeads, int queryLength, int keyLength, int headDim, CudaAttentionKernel expected)
    {
        var problem = Problem(new(batch, heads, kvHeads, queryLength, keyLength, headDim, headDim));
        Assert.Equal(expected, CudaKernelSelector.Select(problem, null, typeof(Half)));
        Assert.Equal(expected, CudaKernelSelector.Select(problem, null, typeof(BFloat16)));
    }

    [Fact]
    public void Forced_mma_with_rows_not_16_byte_aligned_names_the_strides()
    {
        var error = Assert.Throws<NotSupportedException>(() => CudaKernelSelector.Select(
            Problem(new(1, 4, 4, 100, 100, 63, 63)), CudaAttentionKernel.Mma, typeof(Half)));
        Assert.Contains("ATTENTION_NATIVE_CUDA_KERNEL=mma", error.Message, StringComparison.Ordinal);
        Assert.Contains("multiples of 8 elements", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    internal void Operands_not_starting_aligned_go_to_simt_automatically()
    {
        var problem = Problem(new(2, 4, 4, 64, 64, 64, 64));
        Assert.Equal(CudaAttentionKernel.Mma, CudaKernelSelector.Select(problem, null, typeof(Half)));
        Assert.Equal(CudaAttentionKernel.Simt, CudaKernelSelector.Select(problem, null, typeof(Half), operandsAligned: false));
        Assert.Equal(CudaAttentionKernel.Simt, CudaKernelSelector.Select(
            problem, null, typeof(float), allowTensorFloat32: true, operandsAligned: false));
    }

    [Fact]
    public void Forced_mma_on_operands_not_starting_aligned_names_the_option()
    {
        var error = Assert.Throws<NotSupportedException>(() => CudaKernelSelector.Select(
            Problem(new(2, 4, 4, 64, 64, 64, 64)), CudaAttentionKernel.Mma, typeof(BFloat16), operandsAligned: false));
        Assert.Contains("ATTENTION_NATIVE_CUDA_KERNEL=mma", error.Message, StringComparison.Ordinal);
        Assert.Contains("16-byte aligned", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(CudaAttentionKernel.Simt, "simt")]
    [InlineData(CudaAttentionKernel.SplitKv, "splitkv")]
    [InlineData(CudaAttentionKernel.Mma, "mma")]
    [InlineData(CudaAttentionKernel.Hopper, "hopper")]
    internal void Names_round_trip_through_the_environment_value(CudaAttentionKernel kernel, string name)
    {
        Assert.Equal(name, CudaKernelSelector.Name(kernel));
        Assert.Equal(kernel, CudaKernelSelector.ParseForced(name));
    }

    [Theory]
    [InlineData(2, 4, 4, 512, 512, 64, CudaAttentionKernel.Hopper)]
    [InlineData(1, 32, 8, 17, 4096, 128, CudaAttentionKernel.Hopper)]
    [InlineData(1, 8, 8, 1000, 1000, 256, CudaAttentionKernel.Hopper)]
    [InlineData(1, 8, 8, 100, 100, 63, CudaAttentionKernel.Simt)]
    [InlineData(1, 32, 8, 1, 4096, 128, CudaAttentionKernel.SplitKv)]
    internal void On_a_compute_capability_9_device_half_and_bfloat16_prefer_the_hopper_kernel(
        int batch, int heads, int kvHeads, int queryLength, int keyLength, int headDim, CudaAttentionKernel expected)
    {
        var problem = Problem(new(batch, heads, kvHeads, queryLength, keyLength, headDim, headDim));
        Assert.Equal(expected, CudaKernelSelector.Select(problem, null, typeof(Half), hopperDevice: true));
        Assert.Equal(expected, CudaKernelSelector.Select(problem, null, typeof(BFloat16), hopperDevice: true));
        // Float (TF32 or not) is not a Hopper kernel's, and other devices never get it.
        Assert.NotEqual(CudaAttentionKernel.Hopper, CudaKernelSelector.Select(problem, null, typeof(float), allowTensorFloat32: true, hopperDevice: true));
        Assert.NotEqual(CudaAttentionKernel.Hopper, CudaKernelSelector.Select(problem, null, typeof(Half)));
    }

    [Fact]
    internal void A_mask_sends_a_9_0_call_to_the_mma_kernel_and_a_forced_hopper_names_it()
    {
        var shape = new AttentionShape(1, 2, 2, 64, 64, 64, 64);
        var problem = AttentionValidator.Validate(shape, new AttentionOptions { Mask = new AttentionMask(new bool[64 * 64]) }, new(
            shape.QueryElementCount, shape.KeyElementCount, shape.ValueElementCount, shape.OutputElementCount, -1, -1));
        Assert.Equal(CudaAttentionKernel.Mma, CudaKernelSelector.Select(problem, null, typeof(Half), hopperDevice: true));
        var error = Assert.Throws<NotSupportedException>(() => CudaKernelSelector.Select(
            problem, CudaAttentionKernel.Hopper, typeof(Half), hopperDevice: true));
        Assert.Contains("ATTENTION_NATIVE_CUDA_KERNEL=hopper", error.Message, StringComparison.Ordinal);
        Assert.Contains("mask or bias", error.Message, StringComparison.Ordinal);
        error = Assert.Throws<NotSupportedException>(() => CudaKernelSelector.Select(
            Problem(shape), CudaAttentionKernel.Hopper, typeof(Half), operandsAligned: false, hopperDevice: true));
        Assert.Contains("16-byte aligned", error.Message, StringComparison.Ordinal);
    }

    internal static AttentionProblem Problem(AttentionShape shape, bool probabilities = false) =>
        AttentionValidator.Validate(shape, AttentionOptions.Default, new(
            shape.QueryElementCount, shape.KeyElementCount, shape.ValueElementCount, shape.OutputElementCount, -1,
            probabilities ? shape.ProbabilitiesElementCount : -1));
}
