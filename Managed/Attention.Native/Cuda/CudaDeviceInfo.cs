namespace Attention.Native.Cuda;

/// <summary>What the probe learnt about one device: identity, capability and the limits launches are checked against.</summary>
/// <param name="Ordinal">The device ordinal (<c>CUdevice</c> index).</param>
/// <param name="Device">The <c>CUdevice</c> handle.</param>
/// <param name="Name">The marketing name, e.g. "NVIDIA H200".</param>
/// <param name="Major">Compute capability, major.</param>
/// <param name="Minor">Compute capability, minor.</param>
/// <param name="TotalMemoryBytes">Device memory.</param>
/// <param name="DriverVersion">The driver's CUDA version (1000·major + 10·minor).</param>
/// <param name="LibraryFileName">The driver library that loaded, e.g. libcuda.so.1.</param>
/// <param name="MaxGridY">Largest grid y dimension.</param>
/// <param name="MaxGridZ">Largest grid z dimension.</param>
/// <param name="MaxSharedBytesOptIn">Most shared memory a block may use after opting in
/// (<c>CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN</c>).</param>
/// <param name="MultiprocessorCount">Streaming multiprocessors (SMs), which the split-KV kernel's split count fills.</param>
internal sealed record CudaDeviceInfo(
    int Ordinal,
    int Device,
    string Name,
    int Major,
    int Minor,
    long TotalMemoryBytes,
    int DriverVersion,
    string LibraryFileName,
    int MaxGridY,
    int MaxGridZ,
    int MaxSharedBytesOptIn,
    int MultiprocessorCount)
{
    /// <summary>"device 0: NVIDIA H200 (compute capability 9.0, 140 GiB)".</summary>
    public override string ToString() =>
        $"device {Ordinal}: {Name} (compute capability {Major}.{Minor}, {TotalMemoryBytes / (1L << 30)} GiB)";
}
