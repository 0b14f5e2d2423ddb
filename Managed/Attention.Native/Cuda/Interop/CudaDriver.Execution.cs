using System.Runtime.InteropServices;

namespace Attention.Native.Cuda.Interop;

/// <summary>Streams, events, modules, functions and kernel launches.</summary>
internal static unsafe partial class CudaDriver
{
    [LibraryImport(Library)]
    public static partial CudaResult cuStreamCreate(nint* stream, CudaStreamFlags flags);

    [LibraryImport(Library)]
    public static partial CudaResult cuStreamDestroy_v2(nint stream);

    [LibraryImport(Library)]
    public static partial CudaResult cuStreamSynchronize(nint stream);

    [LibraryImport(Library)]
    public static partial CudaResult cuEventCreate(nint* @event, CudaEventFlags flags);

    [LibraryImport(Library)]
    public static partial CudaResult cuEventDestroy_v2(nint @event);

    [LibraryImport(Library)]
    public static partial CudaResult cuEventRecord(nint @event, nint stream);

    [LibraryImport(Library)]
    public static partial CudaResult cuEventSynchronize(nint @event);

    [LibraryImport(Library)]
    public static partial CudaResult cuEventElapsedTime(float* milliseconds, nint start, nint end);

    [LibraryImport(Library)]
    public static partial CudaResult cuModuleLoadDataEx(
        nint* module, void* image, uint optionCount, CudaJitOption* options, void** optionValues);

    [LibraryImport(Library)]
    public static partial CudaResult cuModuleUnload(nint module);

    [LibraryImport(Library)]
    public static partial CudaResult cuModuleGetFunction(nint* function, nint module, byte* name);

    [LibraryImport(Library)]
    public static partial CudaResult cuFuncGetAttribute(int* value, CudaFunctionAttribute attribute, nint function);

    [LibraryImport(Library)]
    public static partial CudaResult cuFuncSetAttribute(nint function, CudaFunctionAttribute attribute, int value);

    [LibraryImport(Library)]
    public static partial CudaResult cuLaunchKernel(
        nint function,
        uint gridX,
        uint gridY,
        uint gridZ,
        uint blockX,
        uint blockY,
        uint blockZ,
        uint sharedMemoryBytes,
        nint stream,
        void** kernelParameters,
        void** extra);
}
