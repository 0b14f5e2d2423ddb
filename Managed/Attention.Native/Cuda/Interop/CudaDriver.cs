using System.Runtime.InteropServices;

namespace Attention.Native.Cuda.Interop;

/// <summary>
/// The CUDA driver API subset this library uses: initialisation, devices, primary contexts and error strings. Only
/// blittable parameters (see <c>AssemblyMarshalling.cs</c>); handles are <see cref="nint"/>, device addresses
/// <see cref="ulong"/> (<c>CUdeviceptr</c>), <c>CUdevice</c> an <see cref="int"/>. The library resolves through
/// <see cref="NativeLibraryResolver"/>; call <see cref="CudaAvailability"/> first, which loads it.
/// </summary>
internal static unsafe partial class CudaDriver
{
    private const string Library = NativeLibraryNames.Driver;

    [LibraryImport(Library)]
    public static partial CudaResult cuInit(uint flags);

    [LibraryImport(Library)]
    public static partial CudaResult cuDriverGetVersion(int* driverVersion);

    [LibraryImport(Library)]
    public static partial CudaResult cuDeviceGetCount(int* count);

    [LibraryImport(Library)]
    public static partial CudaResult cuDeviceGet(int* device, int ordinal);

    [LibraryImport(Library)]
    public static partial CudaResult cuDeviceGetName(byte* name, int length, int device);

    [LibraryImport(Library)]
    public static partial CudaResult cuDeviceGetAttribute(int* value, CudaDeviceAttribute attribute, int device);

    [LibraryImport(Library)]
    public static partial CudaResult cuDeviceTotalMem_v2(nuint* bytes, int device);

    [LibraryImport(Library)]
    public static partial CudaResult cuDevicePrimaryCtxRetain(nint* context, int device);

    [LibraryImport(Library)]
    public static partial CudaResult cuDevicePrimaryCtxRelease_v2(int device);

    [LibraryImport(Library)]
    public static partial CudaResult cuCtxSetCurrent(nint context);

    [LibraryImport(Library)]
    public static partial CudaResult cuCtxGetCurrent(nint* context);

    [LibraryImport(Library)]
    public static partial CudaResult cuCtxSynchronize();

    [LibraryImport(Library)]
    public static partial CudaResult cuGetErrorName(CudaResult error, byte** name);

    [LibraryImport(Library)]
    public static partial CudaResult cuGetErrorString(CudaResult error, byte** description);
}
