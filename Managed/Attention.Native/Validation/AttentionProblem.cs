namespace Attention.Native.Validation;

/// <summary>
/// A validated attention call: every size, stride and option checked and resolved, so that backends index without
/// further checks. Built only by <see cref="AttentionValidator"/>.
/// </summary>
internal sealed record AttentionProblem
{
    public required AttentionShape Shape { get; init; }

    public int Batch => Shape.Batch;

    public int QueryHeads => Shape.QueryHeads;

    public int KeyValueHeads => Shape.KeyValueHeads;

    public int QueryLength => Shape.QueryLength;

    public int KeyLength => Shape.KeyLength;

    public int HeadDim => Shape.HeadDim;

    public int ValueHeadDim => Shape.ValueHeadDim;

    public int GroupSize => Shape.GroupSize;

    public required TensorStrides Query { get; init; }

    public required TensorStrides Key { get; init; }

    public required TensorStrides Value { get; init; }

    public required TensorStrides Output { get; init; }

    /// <summary>The multiplier of <c>Q·Kᵀ</c> (resolved from the default <c>1/√D</c>).</summary>
    public required float Scale { get; init; }

    /// <summary>0 when off.</summary>
    public required float Softcap { get; init; }

    public required CausalMask Causal { get; init; }

    /// <summary>Keys visible before the aligned diagonal; −1 when unbounded.</summary>
    public required int WindowLeft { get; init; }

    /// <summary>Keys visible after the aligned diagonal; −1 when unbounded.</summary>
    public required int WindowRight { get; init; }

    /// <summary>Per-batch key lengths (copied at validation), or null when every key is valid.</summary>
    public required int[]? KeyLengths { get; init; }

    /// <summary>Per-query-head sink logits (copied at validation), or null for none.</summary>
    public float[]? Sinks { get; init; }

    /// <summary>The packed sequences of a varlen call, or null for a padded <c>[B, H, L, D]</c> one.</summary>
    public VarlenOffsets? Varlen { get; init; }

    /// <summary>The sink logit of query head <paramref name="head"/> (natural log), −∞ without sinks.</summary>
    public float SinkOf(int head) => Sinks is null ? float.NegativeInfinity : Sinks[head];

    public required AttentionMask? Mask { get; init; }

    public required AttentionBias? Bias { get; init; }

    /// <summary>Element stride of the mask/bias between batches (0 when broadcast).</summary>
    public long MaskBatchStride(int maskHeads, int maskBatch) =>
        maskBatch == 1 ? 0 : (long)maskHeads * QueryLength * KeyLength;

    /// <summary>Element stride of the mask/bias between heads (0 when broadcast).</summary>
    public long MaskHeadStride(int maskHeads) => maskHeads == 1 ? 0 : (long)QueryLength * KeyLength;

    public required bool WantsLogSumExp { get; init; }

    public required bool WantsProbabilities { get; init; }

    /// <summary>Whether any key restriction besides the mask and bias applies.</summary>
    public bool HasKeyRange => Causal != CausalMask.None || WindowLeft >= 0 || WindowRight >= 0 || KeyLengths is not null;

    /// <summary>Valid key count of batch <paramref name="batch"/>.</summary>
    public int KeyLengthOf(int batch) => KeyLengths is null ? KeyLength : KeyLengths[batch];

    /// <summary>
    /// The keys <c>[lo, hi)</c> query <paramref name="query"/> of batch <paramref name="batch"/> may see under the
    /// causal mask, the window and the key length (the mask and bias are applied per score on top of this).
    /// Both ends are non-decreasing in <paramref name="query"/>, which lets kernels skip whole key blocks.
    /// </summary>
    public (int Lo, int Hi) KeyRange(int batch, int query)
    {
        long keyLength = KeyLengthOf(batch);
        long lo = 0;
        long hi = keyLength;
        long diagonal = query + keyLength - QueryLength;
        if (Causal == CausalMask.TopLeft)
        {
            hi = Math.Min(hi, query + 1L);
        }
        else if (Causal == CausalMask.BottomRight)
        {
            hi = Math.Min(hi, diagonal + 1);
        }

        if (WindowLeft >= 0)
        {
            lo = Math.Max(lo, diagonal - WindowLeft);
        }

        if (WindowRight >= 0)
        {
            hi = Math.Min(hi, diagonal + WindowRight + 1);
        }

        lo = Math.Min(lo, keyLength);
        hi = Math.Max(hi, lo);
        return ((int)lo, (int)hi);
    }

    // Paged K/V (PagedKeyValueLayout): the kernels address K, V and int8 scales through these.

    /// <summary>The paged cache's table, or null where K and V are addressed by their strides alone.</summary>
    public KeyValuePaging? Paging { get; init; }

    /// <summary>Element offset of key <paramref name="key"/> of (<paramref name="batch"/>, <paramref name="kvHead"/>) in K.</summary>
    public long KeyOffset(int batch, int kvHead, int key) => RowOffset(Key, batch, kvHead, key);

    /// <summary>Element offset of value <paramref name="key"/> of (<paramref name="batch"/>, <paramref name="kvHead"/>) in V.</summary>
    public long ValueOffset(int batch, int kvHead, int key) => RowOffset(Value, batch, kvHead, key);

    /// <summary>
    /// Element offset of row <paramref name="key"/> of (<paramref name="batch"/>, <paramref name="kvHead"/>) in an array
    /// with <paramref name="strides"/> (K, V, an int8 cache's scales). Where K and V are paged, the batch stride is the
    /// stride between pages and the key is looked up in the page table.
    /// </summary>
    public long RowOffset(TensorStrides strides, int batch, int kvHead, int key) => Paging is { } paging
        ? (paging.Page(batch, key) * strides.Batch) + ((key % paging.PageSize) * strides.Sequence) + (kvHead * strides.Head)
        : (batch * strides.Batch) + (kvHead * strides.Head) + (key * strides.Sequence);

    /// <summary>
    /// One past the last key from <paramref name="key"/> on, up to <paramref name="end"/>, whose rows lie a sequence
    /// stride apart: <paramref name="end"/> itself, or the end of the key's page where K and V are paged.
    /// </summary>
    public int RunEnd(int key, int end) => Paging?.RunEnd(key, end) ?? end;
}
