namespace Attention.Native;

/// <summary>The memory order of the query, key, value and output tensors.</summary>
public enum AttentionLayout
{
    /// <summary><c>[batch, heads, sequence, dim]</c>, PyTorch SDPA's order.</summary>
    Bhsd,

    /// <summary><c>[batch, sequence, heads, dim]</c>, FlashAttention's order and what projections produce.</summary>
    Bshd,
}
