namespace Attention.Native.Layers;

/// <summary>
/// A float view into a backend tensor starting at an element offset: how a layer addresses Q, K and V inside one
/// packed projection buffer (and cache rows) without copies or transposes.
/// </summary>
internal readonly record struct LayerOperand(AttentionTensor<float> Tensor, long Offset)
{
    /// <summary>Elements from <see cref="Offset"/> to the end of the tensor.</summary>
    public long Length => Tensor.Length - Offset;

    /// <summary>The view moved on by <paramref name="elements"/>.</summary>
    public LayerOperand At(long elements) => this with { Offset = Offset + elements };

    public static implicit operator LayerOperand(AttentionTensor<float> tensor) => new(tensor, 0);
}
