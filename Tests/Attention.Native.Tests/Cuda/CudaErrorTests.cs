using Attention.Native.Cuda;
using Attention.Native.Cuda.Interop;

namespace Attention.Native.Tests.Cuda;

/// <summary>CUresult and cublasStatus_t codes in exceptions: names, descriptions, the failing call.</summary>
[Trait("Device", "Cuda")]
public sealed class CudaErrorTests
{
    [Theory]
    [InlineData(1, "CUDA_ERROR_INVALID_VALUE", "invalid argument")]
    [InlineData(2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory")]
    [InlineData(100, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected")]
    [InlineData(218, "CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed")]
    [InlineData(700, "CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered")]
    [InlineData(719, "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure")]
    [InlineData(999, "CUDA_ERROR_UNKNOWN", "unknown error")]
    public void Known_CUresult_is_named_in_the_exception(int code, string name, string tableDescription)
    {
        Assert.Equal((name, tableDescription), CudaErrors.DescribeFromTable(code));

        var error = new CudaException(code, "cuMemAlloc_v2");
        Assert.Equal(code, error.Result);
        Assert.Equal(name, error.ResultName);
        Assert.Equal("cuMemAlloc_v2", error.Call);
        Assert.False(string.IsNullOrWhiteSpace(error.ResultDescription));
        Assert.Equal($"cuMemAlloc_v2 failed with {name} ({code}): {error.ResultDescription}.", error.Message);
        if (!NativeLibraryResolver.IsLoaded(NativeLibraryNames.Driver))
        {
            Assert.Equal(tableDescription, error.ResultDescription);
        }
    }

    [Theory]
    [InlineData(12345)]
    [InlineData(-1)]
    public void Unknown_CUresult_still_gives_a_readable_message(int code)
    {
        var error = new CudaException(code, "cuLaunchKernel");
        Assert.Equal(code, error.Result);
        Assert.Equal($"CUresult {code}", error.ResultName);
        Assert.Contains("unknown error code", error.ResultDescription, StringComparison.Ordinal);
        Assert.StartsWith($"cuLaunchKernel failed with CUresult {code} ({code}): unknown error code", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Detail_such_as_a_JIT_log_follows_the_code()
    {
        var error = new CudaException(218, "cuModuleLoadDataEx", "Module ptx/x.ptx: JIT error log: line 7; error: bad");
        Assert.Equal("CUDA_ERROR_INVALID_PTX", error.ResultName);
        Assert.EndsWith(". Module ptx/x.ptx: JIT error log: line 7; error: bad", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_throws_only_on_failure()
    {
        CudaErrors.Check(CudaResult.Success, "cuInit");
        var error = Assert.Throws<CudaException>(() => CudaErrors.Check(CudaResult.OutOfMemory, "cuMemAlloc_v2"));
        Assert.Equal("CUDA_ERROR_OUT_OF_MEMORY", error.ResultName);
        CudaErrors.Check(CublasStatus.Success, "cublasSgemm_v2");
        var blas = Assert.Throws<CublasException>(() => CudaErrors.Check(CublasStatus.NotSupported, "cublasGemmEx"));
        Assert.Equal("CUBLAS_STATUS_NOT_SUPPORTED", blas.StatusName);
    }

    [Fact]
    public void Standard_constructors_mean_an_unknown_failure()
    {
        var cuda = new CudaException("boom");
        Assert.Equal(("boom", 999, "CUDA_ERROR_UNKNOWN", ""), (cuda.Message, cuda.Result, cuda.ResultName, cuda.Call));
        var inner = new InvalidOperationException();
        Assert.Same(inner, new CudaException("boom", inner).InnerException);
        Assert.Equal("CUBLAS_STATUS_INTERNAL_ERROR", new CublasException().StatusName);
        Assert.Equal("CUDA unavailable.", new CudaUnavailableException().Message);
    }

    [Theory]
    [InlineData(1, "CUBLAS_STATUS_NOT_INITIALIZED")]
    [InlineData(3, "CUBLAS_STATUS_ALLOC_FAILED")]
    [InlineData(7, "CUBLAS_STATUS_INVALID_VALUE")]
    [InlineData(8, "CUBLAS_STATUS_ARCH_MISMATCH")]
    [InlineData(13, "CUBLAS_STATUS_EXECUTION_FAILED")]
    [InlineData(15, "CUBLAS_STATUS_NOT_SUPPORTED")]
    public void CublasStatus_is_named_in_the_exception(int status, string name)
    {
        var error = new CublasException(status, "cublasGemmEx");
        Assert.Equal((status, name, "cublasGemmEx"), (error.Status, error.StatusName, error.Call));
        Assert.Equal($"cublasGemmEx failed with {name} ({status}): {error.StatusDescription}.", error.Message);
        Assert.False(string.IsNullOrWhiteSpace(error.StatusDescription));
    }

    [Fact]
    public void Unknown_cublasStatus_is_named_by_its_value()
    {
        var error = new CublasException(99, "cublasSgemm_v2");
        Assert.Equal("cublasStatus_t 99", error.StatusName);
        Assert.Contains("unknown status", error.Message, StringComparison.Ordinal);
    }
}
