using System.Runtime.InteropServices;

namespace Attention.Native.Cuda.Interop;

/// <summary>
/// A retained reference to a device's <b>primary</b> context (<c>cuDevicePrimaryCtxRetain</c>): the one context per
/// device that the runtime API and cuBLAS share, so device pointers from this library are valid in theirs. (A private
/// <c>cuCtxCreate</c> context, as ManagedCuda makes, is not.) Every handle bound to the context holds a reference on
/// this one (<see cref="ContextBoundHandle"/>), so the context outlives everything allocated in it.
/// </summary>
internal sealed unsafe class PrimaryContextHandle : SafeHandle
{
    private PrimaryContextHandle(int device)
        : base(0, ownsHandle: true) => Device = device;

    /// <summary>The <c>CUdevice</c> whose primary context this is.</summary>
    public int Device { get; }

    /// <inheritdoc />
    public override bool IsInvalid => handle == 0;

    /// <summary>Retains <paramref name="device"/>'s primary context (activating it if no one else holds it).</summary>
    /// <param name="device">The <c>CUdevice</c>.</param>
    /// <returns>The handle; dispose it to release the reference.</returns>
    /// <exception cref="CudaException">The driver refused.</exception>
    public static PrimaryContextHandle Retain(int device)
    {
        var context = new PrimaryContextHandle(device);
        nint raw = 0;
        var result = CudaDriver.cuDevicePrimaryCtxRetain(&raw, device);
        if (result != CudaResult.Success)
        {
            context.SetHandleAsInvalid();
            throw new CudaException((int)result, "cuDevicePrimaryCtxRetain", $"(device {device})");
        }

        context.SetHandle(raw);
        return context;
    }

    /// <summary>
    /// Makes the context current on the calling thread. The current context is per thread, and .NET code moves between
    /// threads, so every operation calls this first.
    /// </summary>
    /// <exception cref="CudaException">The driver refused.</exception>
    public void MakeCurrent() => CudaErrors.Check(CudaDriver.cuCtxSetCurrent(handle), "cuCtxSetCurrent");

    /// <summary>Makes the context current, ignoring failure (for release paths, which must not throw).</summary>
    public void TryMakeCurrent() => _ = CudaDriver.cuCtxSetCurrent(handle);

    /// <summary>
    /// Releases the reference with the context current (as the driver documentation asks), then restores whatever
    /// context the thread had. Never throws: it may run on the finalizer thread, or after the driver has shut down.
    /// </summary>
    protected override bool ReleaseHandle()
    {
        nint previous = 0;
        bool hadPrevious = CudaDriver.cuCtxGetCurrent(&previous) == CudaResult.Success;
        _ = CudaDriver.cuCtxSetCurrent(handle);
        var result = CudaDriver.cuDevicePrimaryCtxRelease_v2(Device);
        if (hadPrevious)
        {
            _ = CudaDriver.cuCtxSetCurrent(previous);
        }

        return result == CudaResult.Success;
    }
}
