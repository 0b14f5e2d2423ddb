namespace Attention.Native;

/// <summary>
/// The sizes of one attention problem: <c>softmax(Q·Kᵀ·scale + mask)·V</c> over <see cref="Batch"/> ×
/// <see cref="QueryHeads"/> independent heads.
/// </summary>
/// <remarks>
/// Q is <c>[Batch, QueryHeads, QueryLength, HeadDim]</c>, K is <c>[Batch, KeyValueHeads, KeyLength, HeadDim]</c>,
/// V is <c>[Batch, KeyValueHeads, KeyLength, ValueHeadDim]</c> and the output is
/// <c>[Batch, QueryHeads, QueryLength, ValueHeadDim]</c> (logical order; the memory order is chosen by
/// <see cref="AttentionOptions.Layout"/> or explicit strides). <see cref="QueryHeads"/> must be a multiple of
/// <see cref="KeyValueHeads"/>: equal counts are multi-head attention, fewer key/value heads are grouped-query
/// attention (GQA), one key/value head is multi-query attention (MQA). Query head <c>h</c> reads key/value head
/// <c>h / (QueryHeads / KeyValueHeads)</c>, as in PyTorch's <c>enable_gqa</c>.
/// </remarks>
/// <param name="Batch">Number of independent sequences (B), at least 1.</param>
/// <param name="QueryHeads">Number of query heads (Hq), at least 1.</param>
/// <param name="KeyValueHeads">Number of key/value heads (Hkv), at least 1, dividing <paramref name="QueryHeads"/>.</param>
/// <param name="QueryLength">Number of queries per head (Lq), at least 1.</param>
/// <param name="KeyLength">Number of keys per head (Lk), at least 1.</param>
/// <param name="HeadDim">Size of each query and key vector (D), at least 1.</param>
/// <param name="ValueHeadDim">Size of each value and output vector (Dv), at least 1.</param>
public readonly record struct AttentionShape(
    int Batch, int QueryHeads, int KeyValueHeads, int QueryLength, int KeyLength, int HeadDim, int ValueHeadDim)
{
    /// <summary>Multi-head attention shape with as many key/value heads as query heads and <c>Dv = D</c>.</summary>
    /// <param name="batch">Number of sequences (B).</param>
    /// <param name="heads">Number of heads (H), used for queries, keys and values.</param>
    /// <param name="queryLength">Number of queries per head (Lq).</param>
    /// <param name="keyLength">Number of keys per head (Lk).</param>
    /// <param name="headDim">Head dimension of queries, keys and values (D).</param>
    public AttentionShape(int batch, int heads, int queryLength, int keyLength, int headDim)
        : this(batch, heads, heads, queryLength, keyLength, headDim, headDim)
    {
    }

    /// <summary>Number of query heads that share each key/value head (<c>Hq / Hkv</c>).</summary>
    public int GroupSize => KeyValueHeads == 0 ? 0 : QueryHeads / KeyValueHeads;

    // The element counts below throw OverflowException rather than wrap for absurd shapes.

    /// <summary>Element count of a contiguous query tensor: <c>B·Hq·Lq·D</c>.</summary>
    public long QueryElementCount => checked((long)Batch * QueryHeads * QueryLength * HeadDim);

    /// <summary>Element count of a contiguous key tensor: <c>B·Hkv·Lk·D</c>.</summary>
    public long KeyElementCount => checked((long)Batch * KeyValueHeads * KeyLength * HeadDim);

    /// <summary>Element count of a contiguous value tensor: <c>B·Hkv·Lk·Dv</c>.</summary>
    public long ValueElementCount => checked((long)Batch * KeyValueHeads * KeyLength * ValueHeadDim);

    /// <summary>Element count of a contiguous output tensor: <c>B·Hq·Lq·Dv</c>.</summary>
    public long OutputElementCount => checked((long)Batch * QueryHeads * QueryLength * ValueHeadDim);

    /// <summary>Element count of the log-sum-exp output: <c>B·Hq·Lq</c> (always contiguous, <c>[B, Hq, Lq]</c>).</summary>
    public long LogSumExpElementCount => checked((long)Batch * QueryHeads * QueryLength);

    /// <summary>Element count of the probabilities output: <c>B·Hq·Lq·Lk</c> (always contiguous, <c>[B, Hq, Lq, Lk]</c>).</summary>
    public long ProbabilitiesElementCount => checked((long)Batch * QueryHeads * QueryLength * KeyLength);

    /// <summary>
    /// Floating-point operations of the two matrix products, <c>2·B·Hq·Lq·Lk·(D + Dv)</c>: the
    /// <c>4·B·H·Lq·Lk·D</c> that FlashAttention reports when <c>Dv = D</c>. Causal problems do about half of it.
    /// </summary>
    public double FlopCount => 2.0 * Batch * QueryHeads * QueryLength * KeyLength * ((double)HeadDim + ValueHeadDim);

    /// <inheritdoc />
    public override string ToString() =>
        $"B={Batch} Hq={QueryHeads} Hkv={KeyValueHeads} Lq={QueryLength} Lk={KeyLength} D={HeadDim} Dv={ValueHeadDim}";
}
