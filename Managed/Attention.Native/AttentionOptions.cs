namespace Attention.Native;

/// <summary>
/// Everything about an attention call besides its shape and tensors. The default instance computes plain
/// <c>softmax(Q·Kᵀ/√D)·V</c> on <see cref="AttentionLayout.Bhsd"/> tensors. All masks combine with AND.
/// </summary>
public sealed record AttentionOptions
{
    /// <summary>The default options.</summary>
    public static AttentionOptions Default { get; } = new();

    /// <summary>Multiplier of <c>Q·Kᵀ</c>; null means <c>1/√D</c>. Must be finite.</summary>
    public float? Scale { get; init; }

    /// <summary>Causal mask and its alignment; <see cref="CausalMask.None"/> by default.</summary>
    public CausalMask Causal { get; init; }

    /// <summary>Sliding-window (local) attention; null for none.</summary>
    public SlidingWindow? Window { get; init; }

    /// <summary>
    /// Soft cap on the scaled score <c>s</c>: <c>cap·tanh(s/cap)</c>, applied before the bias (Gemma 2, FlashAttention,
    /// ORT GQA). 0 disables it; otherwise finite and at least the smallest normal float, 1.17549435E-38 (2^−126), so
    /// that <c>1/cap</c> is finite: smaller caps are rejected rather than computed as NaN.
    /// </summary>
    public float Softcap { get; init; }

    /// <summary>
    /// Per-batch valid key counts (key padding, FlashAttention varlen / ORT <c>seqlens_k</c> style): in batch
    /// <c>b</c> only keys <c>j &lt; KeyLengths[b]</c> are attended, and bottom-right alignment (causal and window)
    /// uses this length. Empty means every key is valid. Each value is in <c>[0, Lk]</c>.
    /// </summary>
    public ReadOnlyMemory<int> KeyLengths { get; init; }

    /// <summary>
    /// Per-query-head attention-sink logits (gpt-oss, StreamingLLM style): sink <c>h</c> joins the softmax denominator of
    /// every row of query head <c>h</c> as <c>exp(Sinks[h])</c>, with no value row, so
    /// <c>O = Σ_j exp(s_j)·v_j / (Σ_j exp(s_j) + exp(sink))</c>. It is compared with the final scores (after scale,
    /// soft cap and bias) and is not scaled itself. The log-sum-exp output includes the sink term: a row that sees no
    /// key gets <c>O = 0</c> and <c>lse = Sinks[h]</c>. Empty means no sinks; otherwise one finite value per query
    /// head.
    /// </summary>
    public ReadOnlyMemory<float> Sinks { get; init; }

    /// <summary>Boolean mask, true = attend; null for none.</summary>
    public AttentionMask? Mask { get; init; }

    /// <summary>Additive bias on the scores; null for none.</summary>
    public AttentionBias? Bias { get; init; }

    /// <summary>Memory order of Q, K, V and the output unless explicit strides are given.</summary>
    public AttentionLayout Layout { get; init; }

    /// <summary>Explicit strides of the query tensor, overriding <see cref="Layout"/>.</summary>
    public TensorStrides? QueryStrides { get; init; }

    /// <summary>Explicit strides of the key tensor, overriding <see cref="Layout"/>.</summary>
    public TensorStrides? KeyStrides { get; init; }

    /// <summary>Explicit strides of the value tensor, overriding <see cref="Layout"/>.</summary>
    public TensorStrides? ValueStrides { get; init; }

    /// <summary>Explicit strides of the output tensor, overriding <see cref="Layout"/>; must not overlap.</summary>
    public TensorStrides? OutputStrides { get; init; }
}
