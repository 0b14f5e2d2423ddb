namespace Attention.Native.Layers;

/// <summary>A <see cref="MultiHeadAttention{T}"/> layer's weights in PyTorch <c>nn.MultiheadAttention</c>'s layout.</summary>
/// <param name="QProjWeight"><c>q_proj_weight</c>, <c>[H·Dk, E]</c>.</param>
/// <param name="KProjWeight"><c>k_proj_weight</c>, <c>[Hkv·Dk, kdim]</c>.</param>
/// <param name="VProjWeight"><c>v_proj_weight</c>, <c>[Hkv·Dv, vdim]</c>.</param>
/// <param name="InProjBias"><c>in_proj_bias</c>, <c>[H·Dk + Hkv·Dk + Hkv·Dv]</c>; empty without biases.</param>
/// <param name="OutProjWeight"><c>out_proj.weight</c>, <c>[E, H·Dv]</c>.</param>
/// <param name="OutProjBias"><c>out_proj.bias</c>, <c>[E]</c>; empty without biases.</param>
public sealed record PyTorchAttentionWeights(
    float[] QProjWeight, float[] KProjWeight, float[] VProjWeight, float[] InProjBias, float[] OutProjWeight, float[] OutProjBias)
{
    /// <summary><c>in_proj_weight</c>: the three projections stacked, <c>[Wq; Wk; Wv]</c>.</summary>
    /// <returns>A new array.</returns>
    public float[] InProjWeight() => [.. QProjWeight, .. KProjWeight, .. VProjWeight];
}
