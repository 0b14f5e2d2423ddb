using System.Runtime.InteropServices;

namespace Attention.Native.Cuda.Interop;

/// <summary>Device memory: allocation, fills and copies (the <c>_v2</c> entry points take 64-bit sizes).</summary>
internal static unsafe partial class CudaDriver
{
    [LibraryImport(Library)]
    public static partial CudaResult cuMemAlloc_v2(ulong* address, nuint bytes);

    [LibraryImport(Library)]
    public static partial CudaResult cuMemFree_v2(ulong address);

    [LibraryImport(Library)]
    public static partial CudaResult cuMemGetInfo_v2(nuint* free, nuint* total);

    [LibraryImport(Library)]
    public static partial CudaResult cuMemsetD8_v2(ulong address, byte value, nuint count);

    [LibraryImport(Library)]
    public static partial CudaResult cuMemsetD8Async(ulong address, byte value, nuint count, nint stream);

    [LibraryImport(Library)]
    public static partial CudaResult cuMemcpyHtoD_v2(ulong destination, void* source, nuint bytes);

    [LibraryImport(Library)]
    public static partial CudaResult cuMemcpyDtoH_v2(void* destination, ulong source, nuint bytes);

    [LibraryImport(Library)]
    public static partial CudaResult cuMemcpyDtoD_v2(ulong destination, ulong source, nuint bytes);

    [LibraryImport(Library)]
    public static partial CudaResult cuMemcpyDtoDAsync_v2(ulong destination, ulong source, nuint bytes, nint stream);

    [LibraryImport(Library)]
    public static partial CudaResult cuMemcpyHtoDAsync_v2(ulong destination, void* source, nuint bytes, nint stream);

    [LibraryImport(Library)]
    public static partial CudaResult cuMemcpyDtoHAsync_v2(void* destination, ulong source, nuint bytes, nint stream);
}
