namespace Attention.Native.Cuda;

/// <summary>Settings of a <see cref="CudaBackend"/>.</summary>
public sealed record CudaBackendOptions
{
    /// <summary>The device to run on, as the driver numbers them (<c>cuDeviceGet</c>); 0, the first, by default.</summary>
    public int DeviceOrdinal { get; init; }
}
