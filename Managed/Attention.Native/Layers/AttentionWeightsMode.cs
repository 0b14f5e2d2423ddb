namespace Attention.Native.Layers;

/// <summary>How a layer returns its attention weights (PyTorch's <c>average_attn_weights</c>).</summary>
public enum AttentionWeightsMode
{
    /// <summary>The mean over heads, <c>[B, Lq, Lk]</c> (PyTorch's default).</summary>
    AveragedOverHeads,

    /// <summary>Per head, <c>[B, H, Lq, Lk]</c> (PyTorch <c>average_attn_weights=False</c>, Keras <c>return_attention_scores</c>).</summary>
    PerHead,
}
