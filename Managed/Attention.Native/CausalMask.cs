namespace Attention.Native;

/// <summary>How a causal mask is aligned when the query and key lengths differ.</summary>
public enum CausalMask
{
    /// <summary>No causal mask.</summary>
    None,

    /// <summary>
    /// Query <c>i</c> sees keys <c>j ≤ i</c>: PyTorch's <c>is_causal</c>. With <c>Lq &gt; Lk</c> the last queries see
    /// every key; with <c>Lq &lt; Lk</c> the last keys are seen by no query.
    /// </summary>
    TopLeft,

    /// <summary>
    /// Query <c>i</c> sees keys <c>j ≤ i + Lk − Lq</c>: FlashAttention ≥ 2.1 and what KV-cache decoding needs (the
    /// new queries are the last rows of the full square). With <c>Lq &gt; Lk</c> the first <c>Lq − Lk</c> queries see
    /// no key and their output is zero. Per-batch <see cref="AttentionOptions.KeyLengths"/> replace <c>Lk</c>.
    /// </summary>
    BottomRight,
}
