using System.Runtime.CompilerServices;
using Attention.Native.Cuda.Interop;

namespace Attention.Native.Cuda;

/// <summary>
/// A tensor in device memory (<c>cuMemAlloc</c>), owned by a <see cref="CudaBackend"/> and zero-filled at allocation.
/// The memory is freed by <see cref="AttentionTensor{T}.Dispose()"/> (or, as a last resort, by the finalizer of the
/// SafeHandle that owns it); it stays valid after its backend is disposed, until the tensor itself is.
/// </summary>
/// <typeparam name="T">Element type: float, Half, BFloat16, or bool for masks.</typeparam>
/// <remarks>
/// <see cref="AttentionTensor{T}.CopyFrom"/> and <see cref="AttentionTensor{T}.CopyTo"/> are synchronous: they queue the
/// copy on the backend's stream behind all earlier work and wait for it. <see cref="CopyFromAsync"/> and
/// <see cref="CopyToAsync"/> only queue it; their host memory stays pinned (the GC cannot move it) until the stream is
/// synchronised, and must not be reused before then. Copies from ordinary (pageable) memory are staged by the driver,
/// so they overlap little with the host.
/// <para>Device memory is not reported to the GC as memory pressure (a CPU tensor's memory is): the GC weighs pressure
/// against host memory, and gigabytes of device memory counted there would set off collections that free no host
/// memory. Dispose device tensors deterministically.</para>
/// </remarks>
public sealed unsafe class CudaTensor<T> : AttentionTensor<T>
    where T : unmanaged
{
    private readonly CudaBackend backend;
    private readonly DeviceMemoryHandle memory;

    internal CudaTensor(CudaBackend backend, long length)
        : base(backend, length)
    {
        this.backend = backend;
        memory = backend.AllocateZeroed(checked((nuint)length * (nuint)sizeof(T)));
    }

    /// <inheritdoc />
    public override bool IsDisposed => memory.IsClosed;

    /// <summary>The first element's device address; only while the tensor is alive.</summary>
    internal DevicePointer<T> Pointer => new(memory.Address);

    /// <summary>Queues a copy of <paramref name="source"/> into the start of this tensor on <paramref name="stream"/>.</summary>
    /// <param name="source">Elements to copy; at most <see cref="AttentionTensor{T}.Length"/>. Pinned, and not to be
    /// modified, until <paramref name="stream"/> is synchronised.</param>
    /// <param name="stream">The stream of this tensor's backend.</param>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="source"/> is longer than the tensor, or
    /// <paramref name="stream"/> belongs to another backend.</exception>
    /// <exception cref="ObjectDisposedException">The tensor or its backend was disposed.</exception>
    /// <exception cref="CudaException">The driver refused the copy.</exception>
    public void CopyFromAsync(ReadOnlyMemory<T> source, CudaStream stream)
    {
        ThrowIfUnusable(source.Length, stream, nameof(source));
        stream.CopyToDevice(memory.Address, source);
    }

    /// <summary>Queues a copy of the first <c>destination.Length</c> elements into <paramref name="destination"/>.</summary>
    /// <param name="destination">Where to copy; at most <see cref="AttentionTensor{T}.Length"/> elements. Pinned, and
    /// not to be read, until <paramref name="stream"/> is synchronised.</param>
    /// <param name="stream">The stream of this tensor's backend.</param>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is longer than the tensor, or
    /// <paramref name="stream"/> belongs to another backend.</exception>
    /// <exception cref="ObjectDisposedException">The tensor or its backend was disposed.</exception>
    /// <exception cref="CudaException">The driver refused the copy.</exception>
    public void CopyToAsync(Memory<T> destination, CudaStream stream)
    {
        ThrowIfUnusable(destination.Length, stream, nameof(destination));
        stream.CopyToHost(destination, memory.Address);
    }

    /// <summary>The device address of <paramref name="tensor"/> (validated to be of this backend), or null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static DevicePointer<T> PointerOf(AttentionTensor<T>? tensor) =>
        tensor is null ? DevicePointer<T>.Null : ((CudaTensor<T>)tensor).Pointer;

    private protected override void CopyFromCore(ReadOnlySpan<T> source)
    {
        backend.EnterContext();
        fixed (T* pointer = source)
        {
            backend.Stream.CopyToDevice(memory.Address, pointer, (nuint)source.Length * (nuint)sizeof(T));
            backend.Stream.Synchronize();
        }
    }

    private protected override void CopyToCore(Span<T> destination)
    {
        backend.EnterContext();
        fixed (T* pointer = destination)
        {
            backend.Stream.CopyToHost(pointer, memory.Address, (nuint)destination.Length * (nuint)sizeof(T));
            backend.Stream.Synchronize();
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing) => memory.Dispose();

    private void ThrowIfUnusable(int length, CudaStream stream, string parameter)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (!ReferenceEquals(stream.Backend, backend))
        {
            throw new ArgumentException("The stream belongs to another backend; use this tensor's backend's Stream.", nameof(stream));
        }

        if (length > Length)
        {
            throw new ArgumentException($"{parameter} has {length} elements but the tensor holds {Length}.", parameter);
        }

        backend.EnterContext();
    }
}
