using Attention.Native.Cuda.Interop;

namespace Attention.Native.Cuda;

/// <summary>
/// A point in a <see cref="CudaStream"/>'s work (<see cref="CudaStream.RecordEvent"/>): wait for it, or measure GPU
/// time between two of them without synchronising the host in between.
/// </summary>
public sealed unsafe class CudaEvent : IDisposable
{
    private readonly CudaBackend backend;
    private readonly EventHandle handle;

    internal CudaEvent(CudaBackend backend, EventHandle handle)
    {
        this.backend = backend;
        this.handle = handle;
    }

    /// <summary>Waits until the work queued before the event has finished.</summary>
    /// <exception cref="ObjectDisposedException">The event or its backend was disposed.</exception>
    /// <exception cref="CudaException">The driver reported an error.</exception>
    public void Synchronize()
    {
        ObjectDisposedException.ThrowIf(handle.IsClosed, this);
        backend.EnterContext();
        CudaErrors.Check(CudaDriver.cuEventSynchronize(handle.DangerousGetHandle()), "cuEventSynchronize");
    }

    /// <summary>GPU time from <paramref name="start"/> to this event, in milliseconds (about 0.5 µs resolution).</summary>
    /// <param name="start">An earlier event of the same backend.</param>
    /// <returns>The elapsed time; waits for this event first.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="start"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">An event or the backend was disposed.</exception>
    /// <exception cref="CudaException">The driver reported an error.</exception>
    public float ElapsedMillisecondsSince(CudaEvent start)
    {
        ArgumentNullException.ThrowIfNull(start);
        ObjectDisposedException.ThrowIf(start.handle.IsClosed, start);
        Synchronize();
        float milliseconds = 0;
        CudaErrors.Check(
            CudaDriver.cuEventElapsedTime(&milliseconds, start.handle.DangerousGetHandle(), handle.DangerousGetHandle()),
            "cuEventElapsedTime");
        return milliseconds;
    }

    /// <summary>Destroys the event.</summary>
    public void Dispose() => handle.Dispose();
}
