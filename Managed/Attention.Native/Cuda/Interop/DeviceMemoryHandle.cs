namespace Attention.Native.Cuda.Interop;

/// <summary>A block of device memory from <c>cuMemAlloc_v2</c>, freed with <c>cuMemFree_v2</c>.</summary>
internal sealed unsafe class DeviceMemoryHandle : ContextBoundHandle
{
    private DeviceMemoryHandle(PrimaryContextHandle context, nuint bytes)
        : base(context) => Bytes = bytes;

    /// <summary>Size of the block.</summary>
    public nuint Bytes { get; }

    /// <summary>The device address (<c>CUdeviceptr</c>); only while the handle is open.</summary>
    public ulong Address => (ulong)handle;

    /// <summary>Allocates <paramref name="bytes"/> (uninitialised) in <paramref name="context"/>.</summary>
    /// <param name="context">The primary context.</param>
    /// <param name="bytes">At least 1.</param>
    /// <returns>The block; dispose it to free the memory.</returns>
    /// <exception cref="CudaException">The driver refused (e.g. <c>CUDA_ERROR_OUT_OF_MEMORY</c>).</exception>
    public static DeviceMemoryHandle Allocate(PrimaryContextHandle context, nuint bytes)
    {
        context.MakeCurrent();
        var memory = new DeviceMemoryHandle(context, bytes);
        ulong address = 0;
        memory.Complete(CudaDriver.cuMemAlloc_v2(&address, bytes), (nint)address, "cuMemAlloc_v2", $"({bytes} bytes requested)");
        return memory;
    }

    /// <inheritdoc />
    protected override bool Free() => CudaDriver.cuMemFree_v2((ulong)handle) == CudaResult.Success;
}
