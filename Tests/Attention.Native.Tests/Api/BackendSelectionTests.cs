using System.Runtime.Intrinsics;
using Attention.Native.Cpu;
using Attention.Native.Cuda;

namespace Attention.Native.Tests.Api;

/// <summary>Which backend <see cref="AttentionBackend.Create"/> picks, and which kernel variant a CPU backend runs.</summary>
[Collection(ProcessEnvironmentCollection.Name)]
[Trait("Device", "Cuda")]
public sealed class BackendSelectionTests
{
    private const string VariantVariable = "ATTENTION_NATIVE_CPU_VARIANT";

    private const string CudaKernelVariable = "ATTENTION_NATIVE_CUDA_KERNEL";

    public static TheoryData<CpuKernelVariant> ConcreteVariants =>
        new(CpuKernelVariant.Vector512, CpuKernelVariant.Vector256, CpuKernelVariant.Vector128, CpuKernelVariant.Scalar);

    private static CpuKernelVariant Widest =>
        Vector512.IsHardwareAccelerated ? CpuKernelVariant.Vector512
        : Vector256.IsHardwareAccelerated ? CpuKernelVariant.Vector256
        : Vector128.IsHardwareAccelerated ? CpuKernelVariant.Vector128
        : CpuKernelVariant.Scalar;

    [Fact]
    public void Auto_without_cuda_creates_the_cpu_backend_and_says_why()
    {
        CudaTestEnvironment.SkipIfAvailable();
        using var backend = WithVariable(null, () => AttentionBackend.Create(AttentionBackendKind.Auto));
        var cpu = Assert.IsType<CpuBackend>(backend);
        Assert.Equal(AttentionBackendKind.Cpu, cpu.Kind);
        Assert.StartsWith("Auto: CUDA unavailable: ", cpu.SelectionReason, StringComparison.Ordinal);
        Assert.Contains(CudaTestEnvironment.Reason, cpu.SelectionReason, StringComparison.Ordinal);
        Assert.EndsWith("The CPU backend was chosen.", cpu.SelectionReason, StringComparison.Ordinal);
        Assert.Equal(Widest, cpu.Variant);
        Assert.Equal(Environment.ProcessorCount, cpu.ThreadCount);
    }

    [CudaFact]
    public void Auto_picks_cuda_when_present_and_names_the_device()
    {
        using var backend = WithVariable(null, () => AttentionBackend.Create(AttentionBackendKind.Auto));
        var cuda = Assert.IsType<CudaBackend>(backend);
        Assert.Equal(AttentionBackendKind.Cuda, cuda.Kind);
        Assert.StartsWith("Auto: CUDA device 0: ", cuda.SelectionReason, StringComparison.Ordinal);
        Assert.Contains(cuda.DeviceName, cuda.SelectionReason, StringComparison.Ordinal);
        Assert.Contains(cuda.DeviceName, cuda.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Cuda_without_a_device_throws_CudaUnavailableException_saying_why()
    {
        CudaTestEnvironment.SkipIfAvailable();
        var viaCreate = Assert.Throws<CudaUnavailableException>(() => AttentionBackend.Create(AttentionBackendKind.Cuda));
        var direct = Assert.Throws<CudaUnavailableException>(() => new CudaBackend());
        foreach (var error in new[] { viaCreate, direct })
        {
            Assert.Equal(CudaTestEnvironment.Reason, error.Message);
            Assert.StartsWith("CUDA unavailable: ", error.Message, StringComparison.Ordinal);
            Assert.IsAssignableFrom<NotSupportedException>(error);
        }
    }

    [CudaFact]
    public void Cuda_on_request_when_present()
    {
        using var backend = AttentionBackend.Create(AttentionBackendKind.Cuda);
        Assert.IsType<CudaBackend>(backend);
        Assert.Equal("Requested explicitly.", backend.SelectionReason);
    }

    [Fact]
    public void Cpu_on_request()
    {
        using var backend = AttentionBackend.Create(AttentionBackendKind.Cpu);
        Assert.IsType<CpuBackend>(backend);
        Assert.Equal(AttentionBackendKind.Cpu, backend.Kind);
        Assert.False(string.IsNullOrWhiteSpace(backend.SelectionReason));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(-1)]
    public void Undefined_backend_kind(int kind)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => AttentionBackend.Create((AttentionBackendKind)kind));
        Assert.Equal("kind", error.ParamName);
    }

    [Theory]
    [MemberData(nameof(ConcreteVariants))]
    public void Explicit_variant_wins_over_the_environment(CpuKernelVariant variant)
    {
        string other = variant == CpuKernelVariant.Scalar ? nameof(CpuKernelVariant.Vector128) : nameof(CpuKernelVariant.Scalar);
        using var backend = WithVariable(other, () => new CpuBackend(new CpuBackendOptions { Variant = variant }));
        Assert.Equal(variant, backend.Variant);
    }

    [Theory]
    [InlineData("Vector512", CpuKernelVariant.Vector512)]
    [InlineData("Vector256", CpuKernelVariant.Vector256)]
    [InlineData("Vector128", CpuKernelVariant.Vector128)]
    [InlineData("Scalar", CpuKernelVariant.Scalar)]
    [InlineData(" scalar\t", CpuKernelVariant.Scalar)]
    [InlineData("VECTOR128", CpuKernelVariant.Vector128)]
    public void Environment_forces_the_variant_under_auto(string value, CpuKernelVariant expected)
    {
        using var backend = WithVariable(value, () => new CpuBackend());
        Assert.Equal(expected, backend.Variant);
        bool accelerated = expected switch
        {
            CpuKernelVariant.Vector512 => Vector512.IsHardwareAccelerated,
            CpuKernelVariant.Vector256 => Vector256.IsHardwareAccelerated,
            CpuKernelVariant.Vector128 => Vector128.IsHardwareAccelerated,
            _ => true,
        };
        Assert.Equal(accelerated, backend.IsVariantAccelerated);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("Auto")]
    public void Unset_or_auto_environment_picks_the_widest_accelerated_variant(string? value)
    {
        using var backend = WithVariable(value, () => new CpuBackend());
        Assert.Equal(Widest, backend.Variant);
        Assert.True(backend.IsVariantAccelerated);
    }

    [Theory]
    [InlineData("AVX512")]
    [InlineData("Vector1024")]
    [InlineData("7")]
    public void Invalid_environment_value_names_the_variable(string value)
    {
        var direct = Assert.Throws<ArgumentException>(() => WithVariable(value, () => new CpuBackend()));
        // Auto reaches the CPU backend (and the variable) only where CUDA is absent.
        var kind = CudaTestEnvironment.IsAvailable ? AttentionBackendKind.Cpu : AttentionBackendKind.Auto;
        var viaCreate = Assert.Throws<ArgumentException>(() => WithVariable(value, () => AttentionBackend.Create(kind)));
        foreach (var error in new[] { direct, viaCreate })
        {
            Assert.Contains(VariantVariable, error.Message, StringComparison.Ordinal);
            Assert.Contains(value, error.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("tensorcore")]
    [InlineData("7")]
    public void Auto_with_a_bad_cuda_kernel_variable_falls_back_to_the_cpu_and_says_why(string value)
    {
        using var backend = WithVariable(CudaKernelVariable, value, () => AttentionBackend.Create(AttentionBackendKind.Auto));
        var cpu = Assert.IsType<CpuBackend>(backend);
        Assert.StartsWith("Auto: ", cpu.SelectionReason, StringComparison.Ordinal);
        Assert.Contains($"{CudaKernelVariable}='{value}'", cpu.SelectionReason, StringComparison.Ordinal);
        Assert.EndsWith("The CPU backend was chosen.", cpu.SelectionReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Cuda_with_a_bad_cuda_kernel_variable_throws_naming_it()
    {
        // Read before the device is probed, so on every machine.
        foreach (var create in new Func<AttentionBackend>[] { () => AttentionBackend.Create(AttentionBackendKind.Cuda), () => new CudaBackend() })
        {
            var error = Assert.Throws<ArgumentException>(() => WithVariable(CudaKernelVariable, "tensorcore", create));
            Assert.Contains($"{CudaKernelVariable}='tensorcore'", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Undefined_explicit_variant()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(
            () => new CpuBackend(new CpuBackendOptions { Variant = (CpuKernelVariant)9 }));
        Assert.Contains("Variant", error.Message, StringComparison.Ordinal);
        Assert.Equal("options", error.ParamName);
    }

    [Theory]
    [InlineData(CpuKernelVariant.Vector128, 3, "3 threads")]
    [InlineData(CpuKernelVariant.Scalar, 1, "1 thread")]
    [InlineData(CpuKernelVariant.Vector512, 2, "2 threads")]
    public void Description_names_the_variant_and_thread_count(CpuKernelVariant variant, int threads, string count)
    {
        using var backend = new CpuBackend(new CpuBackendOptions { Variant = variant, ThreadCount = threads });
        Assert.Equal(threads, backend.ThreadCount);
        Assert.Contains(variant.ToString(), backend.Description, StringComparison.Ordinal);
        Assert.EndsWith(count, backend.Description, StringComparison.Ordinal);
        Assert.Equal(!backend.IsVariantAccelerated, backend.Description.Contains("emulated", StringComparison.Ordinal));
    }

    /// <summary>Runs <paramref name="body"/> with the variant variable set (null: unset), then restores it.</summary>
    private static T WithVariable<T>(string? value, Func<T> body) => WithVariable(VariantVariable, value, body);

    /// <summary>Runs <paramref name="body"/> with <paramref name="variable"/> set (null: unset), then restores it.</summary>
    private static T WithVariable<T>(string variable, string? value, Func<T> body)
    {
        string? saved = Environment.GetEnvironmentVariable(variable);
        Environment.SetEnvironmentVariable(variable, value);
        try
        {
            return body();
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, saved);
        }
    }
}
