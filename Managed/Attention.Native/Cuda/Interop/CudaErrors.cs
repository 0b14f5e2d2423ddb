using System.Runtime.InteropServices;

namespace Attention.Native.Cuda.Interop;

/// <summary>Turns <c>CUresult</c> and <c>cublasStatus_t</c> codes into exceptions and readable text.</summary>
internal static unsafe class CudaErrors
{
    /// <summary>Throws a <see cref="CudaException"/> naming <paramref name="call"/> unless the call succeeded.</summary>
    /// <param name="result">What the call returned.</param>
    /// <param name="call">The driver function, e.g. <c>cuMemAlloc_v2</c>.</param>
    public static void Check(CudaResult result, string call)
    {
        if (result != CudaResult.Success)
        {
            throw new CudaException((int)result, call);
        }
    }

    /// <summary>Throws a <see cref="CublasException"/> naming <paramref name="call"/> unless the call succeeded.</summary>
    /// <param name="status">What the call returned.</param>
    /// <param name="call">The cuBLAS function, e.g. <c>cublasGemmEx</c>.</param>
    public static void Check(CublasStatus status, string call)
    {
        if (status != CublasStatus.Success)
        {
            throw new CublasException((int)status, call);
        }
    }

    /// <summary>
    /// The name and description of a <c>CUresult</c>: from <c>cuGetErrorName</c> / <c>cuGetErrorString</c> when the
    /// driver is loaded and knows the code, otherwise from <see cref="CudaResultTable"/>.
    /// </summary>
    public static (string Name, string Description) Describe(int code)
    {
        var table = DescribeFromTable(code);
        if (!NativeLibraryResolver.IsLoaded(NativeLibraryNames.Driver))
        {
            return table;
        }

        byte* name = null;
        byte* description = null;
        bool named = CudaDriver.cuGetErrorName((CudaResult)code, &name) == CudaResult.Success && name != null;
        bool described = CudaDriver.cuGetErrorString((CudaResult)code, &description) == CudaResult.Success && description != null;
        return (
            named ? Marshal.PtrToStringUTF8((nint)name) ?? table.Name : table.Name,
            described ? Marshal.PtrToStringUTF8((nint)description) ?? table.Description : table.Description);
    }

    /// <summary>The name and description of a <c>CUresult</c> from the managed table alone.</summary>
    public static (string Name, string Description) DescribeFromTable(int code) =>
        CudaResultTable.Lookup(code)
        ?? ($"CUresult {code}", "unknown error code (neither the driver nor Attention.Native's table names it)");
}
