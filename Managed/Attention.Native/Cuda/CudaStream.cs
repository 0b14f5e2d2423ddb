using System.Buffers;
using Attention.Native.Cuda.Interop;

namespace Attention.Native.Cuda;

/// <summary>
/// The CUDA stream a <see cref="CudaBackend"/> queues all its work on — copies, fills and kernels — so that they run
/// in the order they were issued. It is owned by the backend (<see cref="CudaBackend.Stream"/>) and destroyed with it.
/// </summary>
/// <remarks>
/// Host memory that an asynchronous copy reads or writes stays pinned until a synchronisation proves the copy done:
/// <see cref="Synchronize"/>, <see cref="CudaBackend.Synchronize"/>, a synchronous tensor copy, or the backend's
/// disposal. Beyond <see cref="MaxPendingPins"/> buffers held, the next pin waits for the stream.
/// </remarks>
public sealed unsafe class CudaStream
{
    /// <summary>How many pinned host buffers may await a synchronisation before the next pin waits for the stream.</summary>
    public const int MaxPendingPins = 256;

    private readonly StreamHandle handle;
    private readonly Lock gate = new();
    private readonly Queue<(long Ticket, MemoryHandle Pin)> pins = new();
    private long nextTicket;

    internal CudaStream(CudaBackend backend, StreamHandle handle)
    {
        Backend = backend;
        this.handle = handle;
    }

    /// <summary>The backend that owns the stream.</summary>
    public CudaBackend Backend { get; }

    /// <summary>The raw <c>CUstream</c>; only while the backend is alive.</summary>
    internal nint Handle => handle.DangerousGetHandle();

    /// <summary>Waits until all work queued so far has finished, then unpins the host memory it used.</summary>
    /// <exception cref="ObjectDisposedException">The backend was disposed.</exception>
    /// <exception cref="CudaException">Queued work failed (errors inside kernels surface here, e.g.
    /// <c>CUDA_ERROR_ILLEGAL_ADDRESS</c>).</exception>
    public void Synchronize()
    {
        Backend.EnterContext();
        long snapshot;
        lock (gate)
        {
            // Work queued after this point may still be running when the wait below returns: keep its pins.
            snapshot = nextTicket;
        }

        CudaErrors.Check(CudaDriver.cuStreamSynchronize(Handle), "cuStreamSynchronize");
        lock (gate)
        {
            while (pins.TryPeek(out var oldest) && oldest.Ticket < snapshot)
            {
                pins.Dequeue().Pin.Dispose();
            }
        }
    }

    /// <summary>Records an event at the current end of the stream, for timing or waiting on part of the work.</summary>
    /// <returns>The event; dispose it.</returns>
    /// <exception cref="ObjectDisposedException">The backend was disposed.</exception>
    /// <exception cref="CudaException">The driver refused.</exception>
    public CudaEvent RecordEvent()
    {
        Backend.EnterContext();
        var created = EventHandle.Create(Backend.Context, CudaEventFlags.Default);
        try
        {
            CudaErrors.Check(CudaDriver.cuEventRecord(created.DangerousGetHandle(), Handle), "cuEventRecord");
        }
        catch
        {
            created.Dispose();
            throw;
        }

        return new CudaEvent(Backend, created);
    }

    /// <summary>Queues a copy of <paramref name="source"/> to the device, keeping it pinned until a synchronisation.</summary>
    internal void CopyToDevice<T>(ulong destination, ReadOnlyMemory<T> source)
        where T : unmanaged =>
        QueuePinned(source.Pin(), (nuint)source.Length * (nuint)sizeof(T), destination, toHost: false);

    /// <summary>Queues a copy from the device into <paramref name="destination"/>, pinned until a synchronisation.</summary>
    internal void CopyToHost<T>(Memory<T> destination, ulong source)
        where T : unmanaged =>
        QueuePinned(destination.Pin(), (nuint)destination.Length * (nuint)sizeof(T), source, toHost: true);

    private void QueuePinned(MemoryHandle pin, nuint bytes, ulong device, bool toHost)
    {
        try
        {
            if (toHost)
            {
                CopyToHost(pin.Pointer, device, bytes);
            }
            else
            {
                CopyToDevice(device, pin.Pointer, bytes);
            }
        }
        catch
        {
            pin.Dispose();
            throw;
        }

        KeepPinned(pin);
    }

    /// <summary>
    /// Keeps <paramref name="pin"/> (of a copy already queued) until a synchronisation shows that copy done; waits for the
    /// stream when more than <see cref="MaxPendingPins"/> are held.
    /// </summary>
    private void KeepPinned(MemoryHandle pin)
    {
        bool full;
        lock (gate)
        {
            pins.Enqueue((nextTicket++, pin));
            full = pins.Count > MaxPendingPins;
        }

        if (full)
        {
            Synchronize();
        }
    }

    /// <summary>Queues a host-to-device copy; the caller keeps <paramref name="source"/> valid (pinned) until it ran.</summary>
    internal void CopyToDevice(ulong destination, void* source, nuint bytes)
    {
        if (bytes != 0)
        {
            CudaErrors.Check(CudaDriver.cuMemcpyHtoDAsync_v2(destination, source, bytes, Handle), "cuMemcpyHtoDAsync_v2");
        }
    }

    /// <summary>Queues a device-to-host copy; the caller keeps <paramref name="destination"/> valid until it ran.</summary>
    internal void CopyToHost(void* destination, ulong source, nuint bytes)
    {
        if (bytes != 0)
        {
            CudaErrors.Check(CudaDriver.cuMemcpyDtoHAsync_v2(destination, source, bytes, Handle), "cuMemcpyDtoHAsync_v2");
        }
    }

    /// <summary>Queues a device-to-device copy (the layers' KV-cache rows).</summary>
    internal void CopyOnDevice(ulong destination, ulong source, nuint bytes)
    {
        if (bytes != 0)
        {
            CudaErrors.Check(CudaDriver.cuMemcpyDtoDAsync_v2(destination, source, bytes, Handle), "cuMemcpyDtoDAsync_v2");
        }
    }

    /// <summary>Queues a byte fill of device memory.</summary>
    internal void Fill(ulong destination, byte value, nuint bytes) =>
        CudaErrors.Check(CudaDriver.cuMemsetD8Async(destination, value, bytes, Handle), "cuMemsetD8Async");

    /// <summary>Waits for the stream without throwing (cleanup after a failure, where the first error must win).</summary>
    internal void TrySynchronize()
    {
        Backend.Context.TryMakeCurrent();
        _ = CudaDriver.cuStreamSynchronize(Handle);
    }

    /// <summary>Waits for the stream, unpins everything and destroys it; never throws (backend disposal).</summary>
    internal void Close()
    {
        TrySynchronize();
        lock (gate)
        {
            while (pins.TryDequeue(out var entry))
            {
                entry.Pin.Dispose();
            }
        }

        handle.Dispose();
    }
}
