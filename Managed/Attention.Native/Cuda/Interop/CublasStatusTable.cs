namespace Attention.Native.Cuda.Interop;

/// <summary>Names and descriptions of every <c>cublasStatus_t</c> code.</summary>
internal static class CublasStatusTable
{
    /// <summary>The name and description of <paramref name="status"/>; a made-up name for an unknown code.</summary>
    public static (string Name, string Description) Describe(int status) => status switch
    {
        0 => ("CUBLAS_STATUS_SUCCESS", "the operation completed successfully"),
        1 => ("CUBLAS_STATUS_NOT_INITIALIZED", "the cuBLAS library was not initialized"),
        3 => ("CUBLAS_STATUS_ALLOC_FAILED", "resource allocation failed inside the cuBLAS library"),
        7 => ("CUBLAS_STATUS_INVALID_VALUE", "an unsupported value or parameter was passed to the function"),
        8 => ("CUBLAS_STATUS_ARCH_MISMATCH", "the function requires a feature absent from the device architecture"),
        11 => ("CUBLAS_STATUS_MAPPING_ERROR", "an access to GPU memory space failed"),
        13 => ("CUBLAS_STATUS_EXECUTION_FAILED", "the GPU program failed to execute"),
        14 => ("CUBLAS_STATUS_INTERNAL_ERROR", "an internal cuBLAS operation failed"),
        15 => ("CUBLAS_STATUS_NOT_SUPPORTED", "the functionality requested is not supported"),
        16 => ("CUBLAS_STATUS_LICENSE_ERROR", "the functionality requested requires a license"),
        _ => ($"cublasStatus_t {status}", "unknown status code (not one cuBLAS documents)"),
    };
}
