namespace Attention.Native.Cuda.Interop;

/// <summary>An event from <c>cuEventCreate</c>, destroyed with <c>cuEventDestroy_v2</c>.</summary>
internal sealed unsafe class EventHandle : ContextBoundHandle
{
    private EventHandle(PrimaryContextHandle context)
        : base(context)
    {
    }

    /// <summary>Creates an event in <paramref name="context"/>.</summary>
    /// <param name="context">The primary context.</param>
    /// <param name="flags">Creation flags; <see cref="CudaEventFlags.Default"/> records timestamps.</param>
    /// <returns>The event; dispose it to destroy it.</returns>
    /// <exception cref="CudaException">The driver refused.</exception>
    public static EventHandle Create(PrimaryContextHandle context, CudaEventFlags flags)
    {
        context.MakeCurrent();
        var created = new EventHandle(context);
        nint raw = 0;
        created.Complete(CudaDriver.cuEventCreate(&raw, flags), raw, "cuEventCreate");
        return created;
    }

    /// <inheritdoc />
    protected override bool Free() => CudaDriver.cuEventDestroy_v2(handle) == CudaResult.Success;
}
