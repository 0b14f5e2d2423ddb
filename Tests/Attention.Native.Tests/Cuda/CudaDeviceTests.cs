using System.Text;
using Attention.Native.Cuda;
using Attention.Native.Cuda.Interop;
using Attention.Native.Cuda.Mma;

namespace Attention.Native.Tests.Cuda;

/// <summary>Device tensors, streams, events, kernel modules and launch errors on a real GPU (skipped without one).</summary>
[Trait("Device", "Cuda")]
public sealed unsafe class CudaDeviceTests
{
    private const string NoopPtx = ".version 7.0\n.target sm_80\n.address_size 64\n.visible .entry noop()\n{\n\tret;\n}\n";

    public static TheoryData<string> ElementTypes => new("float", "Half", "BFloat16", "bool");

    [CudaTheory]
    [MemberData(nameof(ElementTypes))]
    public void Tensors_are_zero_filled_and_round_trip(string type)
    {
        switch (type)
        {
            case "float": RoundTrip<float>(i => i * 0.5f); break;
            case "Half": RoundTrip<Half>(i => (Half)(i % 1000)); break;
            case "BFloat16": RoundTrip<BFloat16>(i => (BFloat16)(i % 100)); break;
            default: RoundTrip<bool>(i => i % 3 == 0); break;
        }
    }

    [CudaFact]
    public void Async_copies_complete_at_synchronize()
    {
        using var backend = new CudaBackend();
        float[] values = [.. Enumerable.Range(0, 100_003).Select(i => (float)i)];
        using var tensor = (CudaTensor<float>)backend.Allocate<float>(values.Length);
        tensor.CopyFromAsync(values, backend.Stream);
        float[] back = new float[values.Length];
        tensor.CopyToAsync(back, backend.Stream);
        backend.Stream.Synchronize();
        Assert.Equal(values, back);
    }

    [CudaFact]
    public void Async_copies_reject_a_foreign_stream_and_a_long_buffer()
    {
        using var backend = new CudaBackend();
        using var other = new CudaBackend();
        using var tensor = (CudaTensor<float>)backend.Allocate<float>(10);
        Assert.Equal("stream", Assert.Throws<ArgumentException>(() => tensor.CopyFromAsync(new float[10], other.Stream)).ParamName);
        Assert.Equal("source", Assert.Throws<ArgumentException>(() => tensor.CopyFromAsync(new float[11], backend.Stream)).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => tensor.CopyToAsync(new float[11], backend.Stream)).ParamName);
    }

    [CudaFact]
    public void Events_time_work_on_the_stream()
    {
        using var backend = new CudaBackend();
        var shape = new AttentionShape(1, 8, 512, 512, 64);
        CudaTestEnvironment.SkipWhenEmulatedAndLarge(shape);
        using var q = backend.Allocate<float>(shape.QueryElementCount);
        using var o = backend.Allocate<float>(shape.OutputElementCount);
        using var start = backend.Stream.RecordEvent();
        backend.ScaledDotProductAttention(shape, q, q, q, o);
        using var end = backend.Stream.RecordEvent();
        Assert.True(end.ElapsedMillisecondsSince(start) >= 0);
    }

    [CudaFact]
    public void Head_dims_beyond_shared_memory_throw_before_launching()
    {
        using var backend = new CudaBackend();
        var shape = new AttentionShape(1, 1, 4, 4, 8192);
        using var q = backend.Upload<float>(new float[shape.QueryElementCount]);
        using var o = backend.Upload<float>(Enumerable.Repeat(7f, (int)shape.OutputElementCount).ToArray());
        var error = Assert.Throws<NotSupportedException>(() => backend.ScaledDotProductAttention(shape, q, q, q, o));
        Assert.Contains("shape.HeadDim = 8192", error.Message, StringComparison.Ordinal);
        Assert.All(o.ToArray(), value => Assert.Equal(7f, value));
    }

    /// <summary>A launch with 2048 threads per block (the limit is 1024) through the generated launch.</summary>
    [CudaFact]
    public void A_rejected_launch_reports_the_CUresult_name()
    {
        using var backend = new CudaBackend();
        var kernel = backend.AttentionKernels().F32;
        var configuration = new LaunchConfiguration(1, 1, 1, 2048, 1, 1, 0, backend.Stream.Handle);
        backend.EnterContext();
        var parameters = new AttentionParams<float>
        {
            Batch = 1, QHeads = 1, KvHeads = 1, QLen = 1, KLen = 1, HeadDim = 1, ValueDim = 1, NumSplits = 1, Scale = 1f,
            WindowLeft = -1, WindowRight = -1,
        };
        var error = Assert.Throws<CudaException>(() => NativeKernels.Launch(kernel, configuration, in parameters));
        Assert.Equal("CUDA_ERROR_INVALID_VALUE", error.ResultName);
        Assert.Equal((1, "cuLaunchKernel"), (error.Result, error.Call));
        Assert.Contains("CUDA_ERROR_INVALID_VALUE", error.Message, StringComparison.Ordinal);
        Assert.Contains("attention_simt_f32", error.Message, StringComparison.Ordinal);
        backend.Synchronize(); // a rejected launch leaves the context usable
    }

    [CudaFact]
    public void Broken_ptx_fails_with_the_JIT_error_log()
    {
        using var backend = new CudaBackend();
        byte[] ptx = Encoding.ASCII.GetBytes(NoopPtx.Replace("ret;", "bogus.instruction %r1;", StringComparison.Ordinal) + "\0");
        var error = Assert.Throws<CudaException>(() => CudaModuleHandle.Load(backend.Context, ptx, "broken.ptx"));
        Assert.Equal("CUDA_ERROR_INVALID_PTX", error.ResultName);
        Assert.Contains("Module broken.ptx: JIT error log: ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("(empty)", error.Message, StringComparison.Ordinal);
    }

    [CudaFact]
    public void Ptx_loads_and_its_kernel_launches_and_a_missing_one_is_named()
    {
        using var backend = new CudaBackend();
        using var module = CudaModuleHandle.Load(backend.Context, Encoding.ASCII.GetBytes(NoopPtx + "\0"), "noop.ptx");
        nint function = module.GetFunction("noop");
        backend.EnterContext();
        var noop = new CudaKernel(function, "noop", new KernelLimits(0, 1, 1));
        KernelLauncher.Launch(noop, new LaunchConfiguration(1, 1, 1, 32, 1, 1, 0, backend.Stream.Handle), null);
        backend.Synchronize();
        var missing = Assert.Throws<CudaException>(() => module.GetFunction("absent"));
        Assert.Equal("CUDA_ERROR_NOT_FOUND", missing.ResultName);
        Assert.Contains("absent", missing.Message, StringComparison.Ordinal);
    }

    /// <summary>Each entry is looked up on its own: a module missing one bucket's entry still yields every other kernel,
    /// and the missing one fails each use with the same remembered error.</summary>
    [CudaFact]
    public void A_missing_entry_fails_only_its_own_kernel()
    {
        using var backend = new CudaBackend();
        string ptx = Encoding.ASCII.GetString(PtxResource.Read(AttentionMmaKernels.ResourceName)).TrimEnd('\0');
        string planted = ptx.Replace(KernelNames.AttentionMmaD64Bf16Name, "planted_missing_entry", StringComparison.Ordinal);
        using var module = CudaModuleHandle.Load(backend.Context, Encoding.ASCII.GetBytes(planted + "\0"), "planted.ptx");
        var entries = AttentionMmaKernels.EntryPoints.SelectMany(e => new[] { e.F16, e.Bf16 })
            .Select(name => KernelEntry.Get(module, name, backend.Device)).ToList();
        var missing = Assert.Single(entries, e => e.Failure is not null);
        Assert.Equal(KernelNames.AttentionMmaD64Bf16Name, missing.Name);
        var error = Assert.Throws<CudaException>(() => missing.Kernel);
        Assert.Equal("CUDA_ERROR_NOT_FOUND", error.ResultName);
        Assert.Contains(KernelNames.AttentionMmaD64Bf16Name, error.Message, StringComparison.Ordinal);
        Assert.Same(error, Assert.Throws<CudaException>(() => missing.Kernel));
        Assert.All(entries.Where(e => e != missing), e => Assert.NotEqual(0, e.Kernel.Function));
    }

    [CudaFact]
    public void Attention_kernels_load_from_the_embedded_ptx()
    {
        using var backend = new CudaBackend();
        var kernels = backend.AttentionKernels();
        Assert.Same(kernels, backend.AttentionKernels());
        Assert.All([kernels.F32, kernels.F16, kernels.Bf16], k => Assert.NotEqual(0, k.Function));
        Assert.True(kernels.F32.Limits.MaxDynamicSharedBytes >= 48 * 1024);
        Assert.Equal(
            [KernelNames.AttentionSimtF32Name, KernelNames.AttentionSimtF16Name, KernelNames.AttentionSimtBf16Name],
            [kernels.For<float>().Name, kernels.For<Half>().Name, kernels.For<BFloat16>().Name]);
        Assert.Throws<NotSupportedException>(() => kernels.For<double>());
    }

    [CudaFact]
    public void Cublas_sgemm_and_gemmex_compute_a_row_major_product()
    {
        var cublas = NativeLibraryResolver.Load(NativeLibraryNames.Blas);
        Assert.SkipUnless(cublas.IsLoaded, $"cuBLAS not found (tried {string.Join(", ", cublas.Tried)})");
        using var backend = new CudaBackend();
        float[] a = [1, 2, 3, 4, 5, 6];       // 2×3, row-major
        float[] b = [7, 8, 9, 10, 11, 12];    // 3×2
        float[] expected = [58, 64, 139, 154]; // A·B, 2×2
        using var da = (CudaTensor<float>)backend.Upload<float>(a);
        using var db = (CudaTensor<float>)backend.Upload<float>(b);
        using var dc = (CudaTensor<float>)backend.Allocate<float>(4);
        using var blas = CublasHandle.Create(backend.Context, backend.Stream.Handle);
        CudaErrors.Check(Cublas.cublasSetMathMode(blas.Value, CublasMath.Pedantic), "cublasSetMathMode");
        float alpha = 1;
        float beta = 0;

        // Row-major C = A·B is column-major Cᵀ = Bᵀ·Aᵀ: swap the operands, keep the data.
        CudaErrors.Check(Cublas.cublasSgemm_v2(
            blas.Value, CublasOperation.None, CublasOperation.None, 2, 2, 3, &alpha, db.Pointer.Address, 2,
            da.Pointer.Address, 3, &beta, dc.Pointer.Address, 2), "cublasSgemm_v2");
        Assert.Equal(expected, dc.ToArray());

        dc.CopyFrom(new float[4]);
        CudaErrors.Check(Cublas.cublasGemmEx(
            blas.Value, CublasOperation.None, CublasOperation.None, 2, 2, 3, &alpha, db.Pointer.Address, CudaDataType.R32F, 2,
            da.Pointer.Address, CudaDataType.R32F, 3, &beta, dc.Pointer.Address, CudaDataType.R32F, 2,
            CublasComputeType.Compute32FPedantic, CublasGemmAlgorithm.Default), "cublasGemmEx");
        Assert.Equal(expected, dc.ToArray());

        dc.CopyFrom(new float[4]);
        CudaErrors.Check(Cublas.cublasGemmStridedBatchedEx(
            blas.Value, CublasOperation.None, CublasOperation.None, 2, 2, 3, &alpha, db.Pointer.Address, CudaDataType.R32F, 2, 0,
            da.Pointer.Address, CudaDataType.R32F, 3, 0, &beta, dc.Pointer.Address, CudaDataType.R32F, 2, 4, 1,
            CublasComputeType.Compute32F, CublasGemmAlgorithm.Default), "cublasGemmStridedBatchedEx");
        Assert.Equal(expected, dc.ToArray());

        var invalid = Cublas.cublasSgemm_v2(
            blas.Value, CublasOperation.None, CublasOperation.None, -1, 2, 3, &alpha, db.Pointer.Address, 2,
            da.Pointer.Address, 3, &beta, dc.Pointer.Address, 2);
        var error = Assert.Throws<CublasException>(() => CudaErrors.Check(invalid, "cublasSgemm_v2"));
        Assert.Equal("CUBLAS_STATUS_INVALID_VALUE", error.StatusName);
    }

    private static void RoundTrip<T>(Func<int, T> value)
        where T : unmanaged
    {
        using var backend = new CudaBackend();
        const int Length = 1_000_003;
        using var tensor = backend.Allocate<T>(Length);
        Assert.IsType<CudaTensor<T>>(tensor);
        Assert.All(tensor.ToArray(), element => Assert.Equal(default, element));
        T[] values = [.. Enumerable.Range(0, Length).Select(value)];
        tensor.CopyFrom(values);
        Assert.Equal(values, tensor.ToArray());
        T[] prefix = new T[17];
        tensor.CopyTo(prefix);
        Assert.Equal(values[..17], prefix);
    }
}
