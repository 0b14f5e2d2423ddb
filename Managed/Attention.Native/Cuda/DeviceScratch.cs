using Attention.Native.Cuda.Interop;

namespace Attention.Native.Cuda;

/// <summary>
/// A backend's grow-only device buffer, reused call after call without waiting: whatever a call queues on the
/// backend's stream runs after the previous call's kernels, which have then finished with the buffer. Growing waits
/// for the stream first, since queued kernels may still use the old buffer.
/// </summary>
/// <remarks>Callers hold the backend's launch lock from <see cref="Reserve"/> until their kernels are queued.</remarks>
/// <param name="backend">The backend whose stream orders the buffer's uses.</param>
/// <param name="minimumBytes">The smallest allocation, so that small calls do not regrow it one step at a time.</param>
internal sealed class DeviceScratch(CudaBackend backend, long minimumBytes) : IDisposable
{
    private DeviceMemoryHandle? buffer;

    /// <summary>Bytes currently allocated (0 before the first reservation).</summary>
    public long Capacity => buffer is null ? 0 : (long)buffer.Bytes;

    /// <summary>The device address of at least <paramref name="bytes"/> bytes, valid until the next call.</summary>
    public ulong Reserve(long bytes)
    {
        if (buffer is null || (long)buffer.Bytes < bytes)
        {
            backend.Stream.Synchronize();
            buffer?.Dispose();
            buffer = null;
            buffer = DeviceMemoryHandle.Allocate(backend.Context, (nuint)Math.Max(bytes, minimumBytes));
        }

        return buffer.Address;
    }

    public void Dispose() => buffer?.Dispose();
}
