namespace Attention.Native.Cuda.Interop;

/// <summary>
/// Names and descriptions of the common <c>CUresult</c> codes, for messages when the driver cannot be asked
/// (<c>cuGetErrorName</c> / <c>cuGetErrorString</c> need the driver library loaded).
/// </summary>
internal static class CudaResultTable
{
    /// <summary>The name and description of <paramref name="code"/>, or null for a code not in the table.</summary>
    public static (string Name, string Description)? Lookup(int code) => code switch
    {
        0 => ("CUDA_SUCCESS", "no error"),
        1 => ("CUDA_ERROR_INVALID_VALUE", "invalid argument"),
        2 => ("CUDA_ERROR_OUT_OF_MEMORY", "out of memory"),
        3 => ("CUDA_ERROR_NOT_INITIALIZED", "initialization error (cuInit has not been called or failed)"),
        4 => ("CUDA_ERROR_DEINITIALIZED", "driver shutting down"),
        5 => ("CUDA_ERROR_PROFILER_DISABLED", "profiler disabled while using an external profiling tool"),
        34 => ("CUDA_ERROR_STUB_LIBRARY", "the loaded CUDA driver is a stub library, not a real driver"),
        36 => ("CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER", "the call requires a newer CUDA driver"),
        46 => ("CUDA_ERROR_DEVICE_UNAVAILABLE", "CUDA-capable device(s) busy or unavailable"),
        100 => ("CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"),
        101 => ("CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"),
        200 => ("CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"),
        201 => ("CUDA_ERROR_INVALID_CONTEXT", "invalid device context"),
        209 => ("CUDA_ERROR_NO_BINARY_FOR_GPU", "no kernel image is available for execution on the device"),
        214 => ("CUDA_ERROR_ECC_UNCORRECTABLE", "uncorrectable ECC error encountered"),
        218 => ("CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed"),
        221 => ("CUDA_ERROR_JIT_COMPILER_NOT_FOUND", "PTX JIT compiler library not found"),
        222 => ("CUDA_ERROR_UNSUPPORTED_PTX_VERSION", "the PTX was compiled with a toolchain newer than the driver supports"),
        223 => ("CUDA_ERROR_JIT_COMPILATION_DISABLED", "PTX JIT compilation is disabled"),
        300 => ("CUDA_ERROR_INVALID_SOURCE", "device kernel source is invalid"),
        301 => ("CUDA_ERROR_FILE_NOT_FOUND", "file not found"),
        400 => ("CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"),
        401 => ("CUDA_ERROR_ILLEGAL_STATE", "the operation cannot be performed in the present state"),
        500 => ("CUDA_ERROR_NOT_FOUND", "named symbol not found"),
        600 => ("CUDA_ERROR_NOT_READY", "device not ready"),
        700 => ("CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"),
        701 => ("CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "too many resources requested for launch"),
        702 => ("CUDA_ERROR_LAUNCH_TIMEOUT", "the launch timed out and was terminated"),
        709 => ("CUDA_ERROR_CONTEXT_IS_DESTROYED", "context is destroyed"),
        710 => ("CUDA_ERROR_ASSERT", "device-side assert triggered"),
        714 => ("CUDA_ERROR_HARDWARE_STACK_ERROR", "hardware stack error"),
        715 => ("CUDA_ERROR_ILLEGAL_INSTRUCTION", "an illegal instruction was encountered"),
        716 => ("CUDA_ERROR_MISALIGNED_ADDRESS", "misaligned address"),
        717 => ("CUDA_ERROR_INVALID_ADDRESS_SPACE", "operation not supported on global/shared address space"),
        718 => ("CUDA_ERROR_INVALID_PC", "invalid program counter"),
        719 => ("CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"),
        720 => ("CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE", "too many blocks in cooperative launch"),
        800 => ("CUDA_ERROR_NOT_PERMITTED", "operation not permitted"),
        801 => ("CUDA_ERROR_NOT_SUPPORTED", "operation not supported"),
        802 => ("CUDA_ERROR_SYSTEM_NOT_READY", "system not yet initialized"),
        803 => ("CUDA_ERROR_SYSTEM_DRIVER_MISMATCH", "system has unsupported display driver / CUDA driver combination"),
        804 => ("CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE", "forward compatibility was attempted on non-supported hardware"),
        999 => ("CUDA_ERROR_UNKNOWN", "unknown error"),
        _ => null,
    };
}
