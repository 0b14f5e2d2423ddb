using Attention.Native.Cuda.Interop;

namespace Attention.Native.Cuda;

/// <summary>
/// Temporary device buffers of one span call: allocated, filled and read through the backend's stream, and freed on
/// <see cref="Dispose"/> — which the caller does only after synchronising the stream.
/// </summary>
internal sealed unsafe class DeviceStaging(CudaBackend backend) : IDisposable
{
    private readonly List<DeviceMemoryHandle> buffers = [];

    /// <summary>An uninitialised buffer of <paramref name="count"/> elements; null when <paramref name="count"/> is 0.</summary>
    public DevicePointer<T> Allocate<T>(long count)
        where T : unmanaged
    {
        if (count == 0)
        {
            return DevicePointer<T>.Null;
        }

        var buffer = DeviceMemoryHandle.Allocate(backend.Context, checked((nuint)count * (nuint)sizeof(T)));
        buffers.Add(buffer);
        return new DevicePointer<T>(buffer.Address);
    }

    /// <summary>A buffer holding a copy of <paramref name="count"/> elements at <paramref name="host"/> (pinned by the caller).</summary>
    public DevicePointer<T> Upload<T>(T* host, long count)
        where T : unmanaged
    {
        var device = Allocate<T>(count);
        backend.Stream.CopyToDevice(device.Address, host, (nuint)count * (nuint)sizeof(T));
        return device;
    }

    /// <summary>Queues a copy of <paramref name="count"/> elements back to <paramref name="host"/> (pinned by the caller).</summary>
    public void Download<T>(DevicePointer<T> device, T* host, long count)
        where T : unmanaged =>
        backend.Stream.CopyToHost(host, device.Address, (nuint)count * (nuint)sizeof(T));

    public void Dispose()
    {
        foreach (var buffer in buffers)
        {
            buffer.Dispose();
        }

        buffers.Clear();
    }
}
