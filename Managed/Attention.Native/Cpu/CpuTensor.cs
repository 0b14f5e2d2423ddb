using System.Runtime.CompilerServices;

namespace Attention.Native.Cpu;

/// <summary>
/// A tensor in 64-byte-aligned host memory, owned by a <see cref="CpuBackend"/>. Its elements can be read and
/// written in place through <see cref="AsSpan"/>.
/// </summary>
/// <remarks>
/// Its native memory counts as memory pressure for the GC (<see cref="GC.AddMemoryPressure"/>) until the tensor is
/// disposed or finalized, so undisposed tensors are collected as their size warrants; dispose them all the same, to
/// free the memory at once.
/// </remarks>
/// <typeparam name="T">Element type.</typeparam>
public sealed unsafe class CpuTensor<T> : AttentionTensor<T>
    where T : unmanaged
{
    private readonly AlignedMemoryHandle memory;

    internal CpuTensor(CpuBackend backend, long length)
        : base(backend, length)
    {
        if ((ulong)length > (ulong)int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(
                nameof(length), length, $"A CPU tensor holds at most {int.MaxValue} elements.");
        }

        memory = new AlignedMemoryHandle((nuint)length * (nuint)sizeof(T), zero: true, hugePages: backend.HugePages, gcPressure: true);
    }

    /// <inheritdoc />
    public override bool IsDisposed => memory.IsClosed;

    /// <summary>The elements, in place.</summary>
    /// <returns>A span over the tensor's memory; valid until the tensor is disposed.</returns>
    /// <exception cref="ObjectDisposedException">The tensor was disposed.</exception>
    public Span<T> AsSpan()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return new Span<T>(memory.Pointer, (int)Length);
    }

    /// <summary>The first element's address; only while the tensor is alive.</summary>
    internal T* Pointer => (T*)memory.Pointer;

    private protected override void CopyFromCore(ReadOnlySpan<T> source) => source.CopyTo(AsSpan());

    private protected override void CopyToCore(Span<T> destination) => AsSpan()[..destination.Length].CopyTo(destination);

    /// <inheritdoc />
    protected override void Dispose(bool disposing) => memory.Dispose();

    /// <summary>A typed view of <paramref name="tensor"/>'s address (the caller validated its backend).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T* PointerOf(AttentionTensor<T>? tensor) => tensor is null ? null : ((CpuTensor<T>)tensor).Pointer;
}
