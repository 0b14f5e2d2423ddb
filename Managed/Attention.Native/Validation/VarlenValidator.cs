namespace Attention.Native.Validation;

/// <summary>
/// Checks a varlen call (<see cref="AttentionBackend.ScaledDotProductAttentionVarlen{T}(VarlenAttentionShape, ReadOnlySpan{int}, ReadOnlySpan{int}, AttentionTensor{T}, AttentionTensor{T}, AttentionTensor{T}, AttentionTensor{T}, AttentionOptions?, AttentionTensor{float}?)"/>)
/// and resolves it into an <see cref="AttentionProblem"/> over the padded extent <c>[B, H, max L, D]</c> with packed
/// strides (batch stride 0) and the offsets in <see cref="AttentionProblem.Varlen"/>: a kernel adds sequence
/// <c>b</c>'s first row to its pointers and takes its lengths from the offsets.
/// </summary>
internal static class VarlenValidator
{
    public static AttentionProblem Validate(
        VarlenAttentionShape shape, ReadOnlySpan<int> cuSeqlensQ, ReadOnlySpan<int> cuSeqlensK, AttentionOptions options,
        AttentionValidator.OperandLengths lengths)
    {
        ValidateShape(shape);
        ThrowIfUnsupported(options);
        var query = ValidateOffsets(cuSeqlensQ, shape.Batch, shape.MaxQueryLength, "cuSeqlensQ", "MaxQueryLength");
        var key = ValidateOffsets(cuSeqlensK, shape.Batch, shape.MaxKeyLength, "cuSeqlensK", "MaxKeyLength");
        var offsets = new VarlenOffsets(query, key);
        RequireRows(lengths.Query, offsets.TotalQuery, (long)shape.QueryHeads * shape.HeadDim, "query", "[total_q, Hq, D]");
        RequireRows(lengths.Key, offsets.TotalKey, (long)shape.KeyValueHeads * shape.HeadDim, "key", "[total_k, Hkv, D]");
        RequireRows(lengths.Value, offsets.TotalKey, (long)shape.KeyValueHeads * shape.ValueHeadDim, "value", "[total_k, Hkv, Dv]");
        RequireRows(lengths.Output, offsets.TotalQuery, (long)shape.QueryHeads * shape.ValueHeadDim, "output", "[total_q, Hq, Dv]");
        if (lengths.LogSumExp >= 0)
        {
            RequireRows(lengths.LogSumExp, offsets.TotalQuery, shape.QueryHeads, "logSumExp", "[Hq, total_q]");
        }

        // The padded extent the kernels' grids cover; a length of 0 becomes 1 (an AttentionShape has no empty axis),
        // and every sequence's own lengths come from the offsets.
        var padded = new AttentionShape(shape.Batch, shape.QueryHeads, shape.KeyValueHeads,
            Math.Max(1, shape.MaxQueryLength), Math.Max(1, shape.MaxKeyLength), shape.HeadDim, shape.ValueHeadDim);
        var resolved = AttentionValidator.Validate(padded, options with
        {
            Layout = AttentionLayout.Bshd,
            QueryStrides = new TensorStrides(0, shape.HeadDim, (long)shape.QueryHeads * shape.HeadDim),
            KeyStrides = new TensorStrides(0, shape.HeadDim, (long)shape.KeyValueHeads * shape.HeadDim),
            ValueStrides = new TensorStrides(0, shape.ValueHeadDim, (long)shape.KeyValueHeads * shape.ValueHeadDim),
            OutputStrides = new TensorStrides(0, shape.ValueHeadDim, (long)shape.QueryHeads * shape.ValueHeadDim),
        }, new(long.MaxValue, long.MaxValue, long.MaxValue, long.MaxValue, -1, -1), packedSequences: true);
        return resolved with { Varlen = offsets, WantsLogSumExp = lengths.LogSumExp >= 0 };
    }

    /// <summary>
    /// Sequence <paramref name="batch"/> of a varlen problem as a padded problem of one batch entry whose operands start
    /// at the sequence's first rows (the caller offsets the pointers): what the CPU kernels run per sequence. The
    /// sequence must have at least one query and one key.
    /// </summary>
    public static AttentionProblem Sequence(AttentionProblem varlen, int batch)
    {
        var offsets = varlen.Varlen!;
        var shape = varlen.Shape with
        {
            Batch = 1,
            QueryLength = offsets.QueryLengthOf(batch),
            KeyLength = offsets.KeyLengthOf(batch),
        };
        return varlen with { Shape = shape, Varlen = null };
    }

    private static void ValidateShape(VarlenAttentionShape shape)
    {
        ThrowIfBelow(shape.Batch, 1, nameof(shape.Batch));
        ThrowIfBelow(shape.QueryHeads, 1, nameof(shape.QueryHeads));
        ThrowIfBelow(shape.KeyValueHeads, 1, nameof(shape.KeyValueHeads));
        ThrowIfBelow(shape.MaxQueryLength, 0, nameof(shape.MaxQueryLength));
        ThrowIfBelow(shape.MaxKeyLength, 0, nameof(shape.MaxKeyLength));
        ThrowIfBelow(shape.HeadDim, 1, nameof(shape.HeadDim));
        ThrowIfBelow(shape.ValueHeadDim, 1, nameof(shape.ValueHeadDim));
        if (shape.QueryHeads % shape.KeyValueHeads != 0)
        {
            throw new ArgumentException(
                $"shape.QueryHeads ({shape.QueryHeads}) must be a multiple of shape.KeyValueHeads ({shape.KeyValueHeads}).",
                nameof(shape));
        }

        static void ThrowIfBelow(int value, int least, string name)
        {
            if (value < least)
            {
                throw new ArgumentOutOfRangeException(nameof(shape), value, $"shape.{name} must be at least {least}.");
            }
        }
    }

    /// <summary>Options a packed call cannot take: the layout is fixed by the packing, and masks are per padded plane.</summary>
    private static void ThrowIfUnsupported(AttentionOptions options)
    {
        if (options.QueryStrides is not null || options.KeyStrides is not null || options.ValueStrides is not null
            || options.OutputStrides is not null)
        {
            throw new ArgumentException(
                "options.QueryStrides, KeyStrides, ValueStrides and OutputStrides must be null in a varlen call: its " +
                "tensors are packed [total, H, D].", nameof(options));
        }

        if (!options.KeyLengths.IsEmpty)
        {
            throw new ArgumentException(
                "options.KeyLengths must be empty in a varlen call: cuSeqlensK gives each sequence's keys.", nameof(options));
        }

        if (options.Mask is not null || options.Bias is not null)
        {
            throw new NotSupportedException(
                "options.Mask and options.Bias are [B, H, Lq, Lk] planes of a padded call; a varlen call does not take them.");
        }
    }

    private static int[] ValidateOffsets(ReadOnlySpan<int> offsets, int batch, int maxLength, string parameter, string maxName)
    {
        if (offsets.Length != batch + 1)
        {
            throw new ArgumentException(
                $"{parameter} has {offsets.Length} entries; it needs shape.Batch + 1 = {batch + 1}.", parameter);
        }

        if (offsets[0] < 0)
        {
            throw new ArgumentException($"{parameter}[0] is {offsets[0]}; offsets must not be negative.", parameter);
        }

        for (int b = 0; b < batch; b++)
        {
            long length = (long)offsets[b + 1] - offsets[b];
            if (length < 0)
            {
                throw new ArgumentException(
                    $"{parameter} must be non-decreasing: entry {b + 1} ({offsets[b + 1]}) is below entry {b} ({offsets[b]}).",
                    parameter);
            }

            if (length > maxLength)
            {
                throw new ArgumentException(
                    $"{parameter} gives sequence {b} {length} rows, more than shape.{maxName} ({maxLength}).", parameter);
            }
        }

        return offsets.ToArray();
    }

    private static void RequireRows(long actual, int rows, long rowElements, string parameter, string logical)
    {
        long required = rows * rowElements;
        if (actual < required)
        {
            throw new ArgumentException(
                $"{parameter} holds {actual} elements but {logical} with the offsets' {rows} rows needs {required}.",
                parameter);
        }
    }
}
