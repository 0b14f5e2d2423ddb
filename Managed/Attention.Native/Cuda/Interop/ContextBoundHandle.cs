using System.Runtime.InteropServices;

namespace Attention.Native.Cuda.Interop;

/// <summary>
/// A driver resource that lives in a primary context (memory, stream, event, module, cuBLAS handle). It holds a
/// reference on the <see cref="PrimaryContextHandle"/> from creation to release, so the context cannot be released
/// first, and it frees the resource with the context current — on whichever thread disposes or finalizes it.
/// </summary>
/// <remarks>
/// Creation pattern (no leak on failure): construct the handle (which takes the context reference), call the driver,
/// then <see cref="Complete"/> with the result: on success it adopts the raw value, on failure it gives the context
/// reference back and throws.
/// </remarks>
internal abstract class ContextBoundHandle : SafeHandle
{
    private readonly PrimaryContextHandle context;

    /// <summary>Takes a reference on <paramref name="context"/>; the handle starts invalid.</summary>
    /// <param name="context">The context the resource will live in.</param>
    /// <exception cref="ObjectDisposedException">The context was released.</exception>
    protected ContextBoundHandle(PrimaryContextHandle context)
        : base(0, ownsHandle: true)
    {
        bool added = false;
        context.DangerousAddRef(ref added);
        this.context = context;
    }

    /// <inheritdoc />
    public override bool IsInvalid => handle == 0;

    /// <summary>Adopts <paramref name="value"/> if <paramref name="result"/> is success; otherwise cleans up and throws.</summary>
    /// <param name="result">What the creating call returned.</param>
    /// <param name="value">The raw handle it produced.</param>
    /// <param name="call">The creating call, for the exception.</param>
    /// <param name="detail">Extra text for the exception; null for none.</param>
    /// <exception cref="CudaException"><paramref name="result"/> is not success.</exception>
    protected void Complete(CudaResult result, nint value, string call, string? detail = null)
    {
        if (result != CudaResult.Success)
        {
            Abandon();
            throw new CudaException((int)result, call, detail);
        }

        SetHandle(value);
    }

    /// <summary>Marks a handle whose creation failed as closed and gives its context reference back.</summary>
    protected void Abandon()
    {
        SetHandleAsInvalid();
        context.DangerousRelease();
    }

    /// <summary>Frees the resource; the context is already current. Must not throw.</summary>
    /// <returns>Whether the driver reported success.</returns>
    protected abstract bool Free();

    /// <inheritdoc />
    protected sealed override bool ReleaseHandle()
    {
        context.TryMakeCurrent();
        bool freed = Free();
        context.DangerousRelease();
        return freed;
    }
}
