namespace Attention.Native.Validation;

/// <summary>
/// The validated cumulative offsets of a varlen call (B + 1 entries each, non-decreasing): sequence <c>b</c> owns query
/// rows <c>[Query[b], Query[b+1])</c> and key rows <c>[Key[b], Key[b+1])</c> of the packed tensors.
/// </summary>
internal sealed class VarlenOffsets(int[] query, int[] key)
{
    public int[] Query { get; } = query;

    public int[] Key { get; } = key;

    /// <summary>Packed query rows, <c>cu_seqlens_q[B]</c>: the log-sum-exp output is <c>[Hq, TotalQuery]</c>.</summary>
    public int TotalQuery => Query[^1];

    public int TotalKey => Key[^1];

    public int QueryLengthOf(int batch) => Query[batch + 1] - Query[batch];

    public int KeyLengthOf(int batch) => Key[batch + 1] - Key[batch];
}
