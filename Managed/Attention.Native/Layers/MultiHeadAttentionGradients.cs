namespace Attention.Native.Layers;

/// <summary>
/// The gradients of a <see cref="MultiHeadAttention{T}"/> call's loss with respect to its inputs and weights, the weights'
/// in both layouts the layer loads.
/// </summary>
/// <param name="QueryGrad"><c>[B, Lq, E]</c>; for self-attention the input's whole gradient (through Q, K and V).</param>
/// <param name="KeyGrad"><c>[B, Lk, KeyInputDim]</c>; empty for self-attention.</param>
/// <param name="ValueGrad"><c>[B, Lk, ValueInputDim]</c>; empty for self-attention.</param>
/// <param name="PyTorch">The weights' gradients in PyTorch's layout (<see cref="MultiHeadAttention{T}.LoadPyTorchWeights(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float})"/>);
/// <see cref="PyTorchAttentionWeights.InProjWeight"/> stacks them as <c>in_proj_weight.grad</c>.</param>
/// <param name="Keras">The same gradients in Keras' layout (<see cref="MultiHeadAttention{T}.LoadKerasWeights"/>).</param>
public sealed record MultiHeadAttentionGradients(
    float[] QueryGrad, float[] KeyGrad, float[] ValueGrad, PyTorchAttentionWeights PyTorch, KerasAttentionWeights Keras)
{
    /// <summary>The gradient of <see cref="MultiHeadAttention{T}.Sinks"/>, <c>[H]</c>; empty when the call had no sinks.</summary>
    public float[] SinksGrad { get; init; } = [];
}
