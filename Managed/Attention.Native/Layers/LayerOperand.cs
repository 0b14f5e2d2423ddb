namespace Attention.Native.Layers;

/// <summary>
/// A view into a backend tensor starting at an element offset: how a layer addresses Q, K and V inside one packed
/// projection buffer (and cache rows) without copies or transposes.
/// </summary>
/// <typeparam name="T">The element type: the layer's (float, Half or BFloat16), or float for probabilities.</typeparam>
internal readonly record struct LayerOperand<T>(AttentionTensor<T> Tensor, long Offset)
    where T : unmanaged
{
    /// <summary>Elements from <see cref="Offset"/> to the end of the tensor.</summary>
    public long Length => Tensor.Length - Offset;

    /// <summary>The view moved on by <paramref name="elements"/>.</summary>
    public LayerOperand<T> At(long elements) => this with { Offset = Offset + elements };

    public static implicit operator LayerOperand<T>(AttentionTensor<T> tensor) => new(tensor, 0);
}
