namespace Attention.Native.Cuda.Interop;

/// <summary><c>CUresult</c>: the codes this library acts on (any other value is named by <see cref="CudaResultTable"/>).</summary>
internal enum CudaResult
{
    Success = 0,
    InvalidValue = 1,
    OutOfMemory = 2,
    NotInitialized = 3,
    StubLibrary = 34,
    DeviceUnavailable = 46,
    NoDevice = 100,
    InvalidDevice = 101,
    InvalidPtx = 218,
    UnsupportedPtxVersion = 222,
    NotFound = 500,
    NotReady = 600,
    Unknown = 999,
}

/// <summary><c>CUdevice_attribute</c> values read by this library.</summary>
internal enum CudaDeviceAttribute
{
    MaxThreadsPerBlock = 1,
    MaxGridDimY = 6,
    MaxGridDimZ = 7,
    MaxSharedMemoryPerBlock = 8,
    MultiprocessorCount = 16,
    ComputeCapabilityMajor = 75,
    ComputeCapabilityMinor = 76,
    MaxSharedMemoryPerBlockOptIn = 97,
}

/// <summary><c>CUfunction_attribute</c> values used by this library.</summary>
internal enum CudaFunctionAttribute
{
    MaxThreadsPerBlock = 0,
    SharedSizeBytes = 1,
    LocalSizeBytes = 3,
    NumRegisters = 4,
    PtxVersion = 5,
    BinaryVersion = 6,
    MaxDynamicSharedSizeBytes = 8,
}

/// <summary><c>CUjit_option</c> values passed to <c>cuModuleLoadDataEx</c>.</summary>
internal enum CudaJitOption
{
    InfoLogBuffer = 3,
    InfoLogBufferSizeBytes = 4,
    ErrorLogBuffer = 5,
    ErrorLogBufferSizeBytes = 6,
    LogVerbose = 12,
}

/// <summary><c>cuStreamCreate</c> flags.</summary>
[Flags]
internal enum CudaStreamFlags : uint
{
    /// <summary>A blocking stream: ordered with the legacy default stream, which other libraries may use.</summary>
    Default = 0,

    NonBlocking = 1,
}

/// <summary><c>cuEventCreate</c> flags.</summary>
[Flags]
internal enum CudaEventFlags : uint
{
    /// <summary>Records timestamps (needed by <c>cuEventElapsedTime</c>).</summary>
    Default = 0,

    BlockingSync = 1,
    DisableTiming = 2,
}
