namespace Attention.Native.Layers;

/// <summary>A <see cref="MultiHeadAttention{T}"/> layer's weights in Keras <c>MultiHeadAttention</c>'s layout (<c>get_weights()</c> order).</summary>
/// <param name="QueryKernel"><c>[E, H, Dk]</c>.</param>
/// <param name="QueryBias"><c>[H, Dk]</c>; empty without biases.</param>
/// <param name="KeyKernel"><c>[kdim, Hkv, Dk]</c>.</param>
/// <param name="KeyBias"><c>[Hkv, Dk]</c>; empty without biases.</param>
/// <param name="ValueKernel"><c>[vdim, Hkv, Dv]</c>.</param>
/// <param name="ValueBias"><c>[Hkv, Dv]</c>; empty without biases.</param>
/// <param name="OutputKernel"><c>[H, Dv, E]</c>.</param>
/// <param name="OutputBias"><c>[E]</c>; empty without biases.</param>
public sealed record KerasAttentionWeights(
    float[] QueryKernel, float[] QueryBias, float[] KeyKernel, float[] KeyBias, float[] ValueKernel, float[] ValueBias,
    float[] OutputKernel, float[] OutputBias);
