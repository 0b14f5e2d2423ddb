namespace Attention.Native.Cuda.Interop;

/// <summary>A stream from <c>cuStreamCreate</c>, destroyed with <c>cuStreamDestroy_v2</c>.</summary>
internal sealed unsafe class StreamHandle : ContextBoundHandle
{
    private StreamHandle(PrimaryContextHandle context)
        : base(context)
    {
    }

    /// <summary>Creates a stream in <paramref name="context"/>.</summary>
    /// <param name="context">The primary context.</param>
    /// <param name="flags">Creation flags.</param>
    /// <returns>The stream; dispose it to destroy it (work already queued still completes).</returns>
    /// <exception cref="CudaException">The driver refused.</exception>
    public static StreamHandle Create(PrimaryContextHandle context, CudaStreamFlags flags)
    {
        context.MakeCurrent();
        var stream = new StreamHandle(context);
        nint raw = 0;
        stream.Complete(CudaDriver.cuStreamCreate(&raw, flags), raw, "cuStreamCreate");
        return stream;
    }

    /// <inheritdoc />
    protected override bool Free() => CudaDriver.cuStreamDestroy_v2(handle) == CudaResult.Success;
}
