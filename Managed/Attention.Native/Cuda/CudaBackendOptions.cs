namespace Attention.Native.Cuda;

/// <summary>Settings of a <see cref="CudaBackend"/>.</summary>
public sealed record CudaBackendOptions
{
    /// <summary>The device to run on, as the driver numbers them (<c>cuDeviceGet</c>); 0, the first, by default.</summary>
    public int DeviceOrdinal { get; init; }

    /// <summary>
    /// The kernel every call must use (tests and benchmarks force each); null to choose per call, or to take
    /// <c>ATTENTION_NATIVE_CUDA_KERNEL</c> when set.
    /// </summary>
    internal CudaAttentionKernel? Kernel { get; init; }
}
