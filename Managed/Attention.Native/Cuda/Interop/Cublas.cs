using System.Runtime.InteropServices;

namespace Attention.Native.Cuda.Interop;

/// <summary>
/// The cuBLAS subset this library uses (the <c>_v2</c> handle API). cuBLAS is column-major: a row-major
/// <c>C = A·B</c> is computed as <c>Cᵀ = Bᵀ·Aᵀ</c> by swapping the operands, not the data. Scalars
/// (<c>alpha</c>, <c>beta</c>) are host pointers (the default pointer mode); matrices are device addresses.
/// Load the library with <see cref="NativeLibraryResolver.Load"/> before the first call.
/// </summary>
internal static unsafe partial class Cublas
{
    private const string Library = NativeLibraryNames.Blas;

    [LibraryImport(Library)]
    public static partial CublasStatus cublasCreate_v2(nint* handle);

    [LibraryImport(Library)]
    public static partial CublasStatus cublasDestroy_v2(nint handle);

    [LibraryImport(Library)]
    public static partial CublasStatus cublasSetStream_v2(nint handle, nint stream);

    [LibraryImport(Library)]
    public static partial CublasStatus cublasSetMathMode(nint handle, CublasMath mode);

    [LibraryImport(Library)]
    public static partial CublasStatus cublasSgemm_v2(
        nint handle,
        CublasOperation transposeA,
        CublasOperation transposeB,
        int m,
        int n,
        int k,
        float* alpha,
        ulong a,
        int lda,
        ulong b,
        int ldb,
        float* beta,
        ulong c,
        int ldc);

    [LibraryImport(Library)]
    public static partial CublasStatus cublasGemmEx(
        nint handle,
        CublasOperation transposeA,
        CublasOperation transposeB,
        int m,
        int n,
        int k,
        void* alpha,
        ulong a,
        CudaDataType aType,
        int lda,
        ulong b,
        CudaDataType bType,
        int ldb,
        void* beta,
        ulong c,
        CudaDataType cType,
        int ldc,
        CublasComputeType computeType,
        CublasGemmAlgorithm algorithm);

    [LibraryImport(Library)]
    public static partial CublasStatus cublasGemmStridedBatchedEx(
        nint handle,
        CublasOperation transposeA,
        CublasOperation transposeB,
        int m,
        int n,
        int k,
        void* alpha,
        ulong a,
        CudaDataType aType,
        int lda,
        long strideA,
        ulong b,
        CudaDataType bType,
        int ldb,
        long strideB,
        void* beta,
        ulong c,
        CudaDataType cType,
        int ldc,
        long strideC,
        int batchCount,
        CublasComputeType computeType,
        CublasGemmAlgorithm algorithm);
}
