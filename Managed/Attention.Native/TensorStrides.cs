namespace Attention.Native;

/// <summary>
/// Element strides of a 4-D attention tensor whose last (head) dimension is contiguous, for views that are
/// neither plain <see cref="AttentionLayout.Bhsd"/> nor <see cref="AttentionLayout.Bshd"/> (a slice of a packed
/// QKV projection, a KV cache with spare capacity, …).
/// </summary>
/// <param name="Batch">Elements between consecutive batch entries.</param>
/// <param name="Head">Elements between consecutive heads.</param>
/// <param name="Sequence">Elements between consecutive positions in the sequence.</param>
public readonly record struct TensorStrides(long Batch, long Head, long Sequence)
{
    /// <summary>The strides of a contiguous tensor of the given sizes in the given layout.</summary>
    /// <param name="layout">Memory order.</param>
    /// <param name="heads">Number of heads.</param>
    /// <param name="length">Sequence length.</param>
    /// <param name="dim">Size of the contiguous last dimension.</param>
    /// <returns>The strides, in elements.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layout"/> is not a defined layout.</exception>
    public static TensorStrides Contiguous(AttentionLayout layout, int heads, int length, int dim) => layout switch
    {
        // At most three int factors: the product always fits in a long.
        AttentionLayout.Bhsd => new((long)heads * length * dim, (long)length * dim, dim),
        AttentionLayout.Bshd => new((long)length * heads * dim, dim, (long)heads * dim),
        _ => throw new ArgumentOutOfRangeException(nameof(layout), layout, "Unknown layout."),
    };

    /// <summary>
    /// The number of elements a tensor with these strides spans: one past the offset of its last element.
    /// </summary>
    /// <param name="batch">Batch size.</param>
    /// <param name="heads">Number of heads.</param>
    /// <param name="length">Sequence length.</param>
    /// <param name="dim">Size of the contiguous last dimension.</param>
    /// <returns>The minimum tensor length in elements.</returns>
    /// <exception cref="OverflowException">The extent does not fit in a <see cref="long"/>.</exception>
    public long RequiredLength(int batch, int heads, int length, int dim) =>
        checked(((batch - 1) * Batch) + ((heads - 1) * Head) + ((length - 1) * Sequence) + dim);
}
