namespace Attention.Native;

/// <summary>
/// The sizes of a variable-length (FlashAttention <c>varlen</c>) attention call: <see cref="Batch"/> sequences packed
/// without padding, sequence <c>b</c> owning query rows <c>[cu_seqlens_q[b], cu_seqlens_q[b+1])</c> and key rows
/// <c>[cu_seqlens_k[b], cu_seqlens_k[b+1])</c> of the packed tensors.
/// </summary>
/// <remarks>
/// Q is <c>[total_q, QueryHeads, HeadDim]</c>, K is <c>[total_k, KeyValueHeads, HeadDim]</c>, V is
/// <c>[total_k, KeyValueHeads, ValueHeadDim]</c> and the output is <c>[total_q, QueryHeads, ValueHeadDim]</c>, each
/// contiguous, where <c>total_q = cu_seqlens_q[Batch]</c> and <c>total_k = cu_seqlens_k[Batch]</c>. The log-sum-exp
/// output is <c>[QueryHeads, total_q]</c> (FlashAttention's varlen <c>softmax_lse</c>). Every sequence is its own
/// problem: causal alignment, the window and the sinks use its own query and key lengths.
/// </remarks>
/// <param name="Batch">Number of sequences (B), at least 1: the offset arrays hold B + 1 entries.</param>
/// <param name="QueryHeads">Number of query heads (Hq), at least 1.</param>
/// <param name="KeyValueHeads">Number of key/value heads (Hkv), at least 1, dividing <paramref name="QueryHeads"/>.</param>
/// <param name="MaxQueryLength">The longest sequence's query count (<c>max_seqlen_q</c>), at least 0.</param>
/// <param name="MaxKeyLength">The longest sequence's key count (<c>max_seqlen_k</c>), at least 0.</param>
/// <param name="HeadDim">Size of each query and key vector (D), at least 1.</param>
/// <param name="ValueHeadDim">Size of each value and output vector (Dv), at least 1.</param>
public readonly record struct VarlenAttentionShape(
    int Batch, int QueryHeads, int KeyValueHeads, int MaxQueryLength, int MaxKeyLength, int HeadDim, int ValueHeadDim)
{
    /// <summary>Multi-head varlen shape with as many key/value heads as query heads and <c>Dv = D</c>.</summary>
    /// <param name="batch">Number of sequences (B).</param>
    /// <param name="heads">Number of heads (H).</param>
    /// <param name="maxQueryLength">The longest sequence's query count.</param>
    /// <param name="maxKeyLength">The longest sequence's key count.</param>
    /// <param name="headDim">Head dimension (D).</param>
    public VarlenAttentionShape(int batch, int heads, int maxQueryLength, int maxKeyLength, int headDim)
        : this(batch, heads, heads, maxQueryLength, maxKeyLength, headDim, headDim)
    {
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"B={Batch} Hq={QueryHeads} Hkv={KeyValueHeads} max Lq={MaxQueryLength} max Lk={MaxKeyLength} D={HeadDim} Dv={ValueHeadDim}";
}
