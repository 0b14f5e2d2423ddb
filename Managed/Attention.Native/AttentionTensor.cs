namespace Attention.Native;

/// <summary>
/// A one-dimensional buffer of <typeparamref name="T"/> owned by an <see cref="AttentionBackend"/> (host memory for
/// the CPU backend, device memory for CUDA). Attention calls interpret it through an <see cref="AttentionShape"/>
/// and a layout or strides.
/// </summary>
/// <typeparam name="T">Element type: <see cref="float"/>, <see cref="Half"/>, <see cref="BFloat16"/>, or
/// <see cref="bool"/> for masks.</typeparam>
/// <remarks>Dispose a tensor to free its memory deterministically.</remarks>
public abstract class AttentionTensor<T> : IDisposable, IBackendTensor
    where T : unmanaged
{
    /// <summary>Creates the tensor's bookkeeping.</summary>
    /// <param name="backend">The owning backend.</param>
    /// <param name="length">Number of elements.</param>
    private protected AttentionTensor(AttentionBackend backend, long length)
    {
        Backend = backend;
        Length = length;
    }

    /// <summary>The backend whose memory holds this tensor.</summary>
    public AttentionBackend Backend { get; }

    /// <summary>Number of elements.</summary>
    public long Length { get; }

    /// <summary>Whether <see cref="Dispose()"/> has been called.</summary>
    public abstract bool IsDisposed { get; }

    /// <summary>Copies <paramref name="source"/> into the start of this tensor.</summary>
    /// <param name="source">Elements to copy; at most <see cref="Length"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="source"/> is longer than the tensor.</exception>
    /// <exception cref="ObjectDisposedException">The tensor was disposed.</exception>
    public void CopyFrom(ReadOnlySpan<T> source)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (source.Length > Length)
        {
            throw new ArgumentException(
                $"The source has {source.Length} elements but the tensor holds {Length}.", nameof(source));
        }

        CopyFromCore(source);
    }

    /// <summary>Copies the first <c>destination.Length</c> elements of this tensor into <paramref name="destination"/>.</summary>
    /// <param name="destination">Where to copy; at most <see cref="Length"/> elements.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is longer than the tensor.</exception>
    /// <exception cref="ObjectDisposedException">The tensor was disposed.</exception>
    public void CopyTo(Span<T> destination)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (destination.Length > Length)
        {
            throw new ArgumentException(
                $"The destination has {destination.Length} elements but the tensor holds {Length}.", nameof(destination));
        }

        CopyToCore(destination);
    }

    /// <summary>Copies the whole tensor into a new array.</summary>
    /// <returns>The elements.</returns>
    /// <exception cref="NotSupportedException">The tensor is longer than an array can be.</exception>
    public T[] ToArray()
    {
        if (Length > Array.MaxLength)
        {
            throw new NotSupportedException($"The tensor has {Length} elements, more than an array can hold.");
        }

        var result = new T[Length];
        CopyTo(result);
        return result;
    }

    /// <summary>Backend-specific copy from host memory; arguments are already validated.</summary>
    /// <param name="source">Elements to copy.</param>
    private protected abstract void CopyFromCore(ReadOnlySpan<T> source);

    /// <summary>Backend-specific copy to host memory; arguments are already validated.</summary>
    /// <param name="destination">Where to copy.</param>
    private protected abstract void CopyToCore(Span<T> destination);

    /// <summary>Frees the tensor's memory.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the tensor's memory.</summary>
    /// <param name="disposing">True when called from <see cref="Dispose()"/>.</param>
    protected abstract void Dispose(bool disposing);
}
