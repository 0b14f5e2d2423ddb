namespace Attention.Native.Validation;

/// <summary>
/// Checks an attention call before any kernel runs, throwing an <see cref="ArgumentException"/> that names the
/// parameter (and the option) and the expected size, and resolves it into an <see cref="AttentionProblem"/>.
/// </summary>
internal static class AttentionValidator
{
    /// <summary>The smallest soft cap accepted besides 0: the smallest normal float (2^−126).</summary>
    public const float SmallestSoftcap = 1.17549435E-38f;

    /// <summary>Lengths of the caller's operands, in elements; −1 for an output that was not requested.</summary>
    public readonly record struct OperandLengths(
        long Query, long Key, long Value, long Output, long LogSumExp, long Probabilities);

    public static AttentionProblem Validate(AttentionShape shape, AttentionOptions options, OperandLengths lengths)
    {
        ValidateShape(shape);
        var layout = options.Layout;
        if (layout is not (AttentionLayout.Bhsd or AttentionLayout.Bshd))
        {
            throw new ArgumentOutOfRangeException(nameof(options), layout, "options.Layout is not a defined AttentionLayout.");
        }

        var q = options.QueryStrides ?? TensorStrides.Contiguous(layout, shape.QueryHeads, shape.QueryLength, shape.HeadDim);
        var k = options.KeyStrides ?? TensorStrides.Contiguous(layout, shape.KeyValueHeads, shape.KeyLength, shape.HeadDim);
        var v = options.ValueStrides ?? TensorStrides.Contiguous(layout, shape.KeyValueHeads, shape.KeyLength, shape.ValueHeadDim);
        var o = options.OutputStrides ?? TensorStrides.Contiguous(layout, shape.QueryHeads, shape.QueryLength, shape.ValueHeadDim);
        ThrowIfNegative(q, "options.QueryStrides");
        ThrowIfNegative(k, "options.KeyStrides");
        ThrowIfNegative(v, "options.ValueStrides");
        ThrowIfNegative(o, "options.OutputStrides");
        ThrowIfOverlapping(o, shape.Batch, shape.QueryHeads, shape.QueryLength, shape.ValueHeadDim, "options.OutputStrides", "output");

        RequireLength(lengths.Query, Extent(q, shape.Batch, shape.QueryHeads, shape.QueryLength, shape.HeadDim),
            "query", "[B, Hq, Lq, D]", shape);
        RequireLength(lengths.Key, Extent(k, shape.Batch, shape.KeyValueHeads, shape.KeyLength, shape.HeadDim),
            "key", "[B, Hkv, Lk, D]", shape);
        RequireLength(lengths.Value, Extent(v, shape.Batch, shape.KeyValueHeads, shape.KeyLength, shape.ValueHeadDim),
            "value", "[B, Hkv, Lk, Dv]", shape);
        RequireLength(lengths.Output, Extent(o, shape.Batch, shape.QueryHeads, shape.QueryLength, shape.ValueHeadDim),
            "output", "[B, Hq, Lq, Dv]", shape);
        if (lengths.LogSumExp >= 0)
        {
            RequireLength(lengths.LogSumExp, shape.LogSumExpElementCount, "logSumExp", "[B, Hq, Lq]", shape);
        }

        if (lengths.Probabilities >= 0)
        {
            RequireLength(lengths.Probabilities, shape.ProbabilitiesElementCount, "probabilities", "[B, Hq, Lq, Lk]", shape);
        }

        float scale = options.Scale ?? 1f / MathF.Sqrt(shape.HeadDim);
        if (!float.IsFinite(scale))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Scale, "options.Scale must be a finite number.");
        }

        if (!float.IsFinite(options.Softcap) || options.Softcap < 0)
        {
            throw new ArgumentOutOfRangeException(
                nameof(options), options.Softcap, "options.Softcap must be 0 (off) or a positive finite number.");
        }

        if (options.Softcap is > 0 and < SmallestSoftcap)
        {
            // The kernels multiply by 1/cap: below the smallest normal float it is infinite (and a GPU flushes such a
            // cap to 0), which turns a score of 0 into NaN.
            throw new ArgumentOutOfRangeException(
                nameof(options), options.Softcap,
                $"options.Softcap must be 0 (off) or at least {SmallestSoftcap:R} (the smallest normal float), so that its reciprocal is finite.");
        }

        if (options.Causal is not (CausalMask.None or CausalMask.TopLeft or CausalMask.BottomRight))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Causal, "options.Causal is not a defined CausalMask.");
        }

        ValidateScores(options.Mask, "options.Mask", shape);
        ValidateScores(options.Bias, "options.Bias", shape);
        var window = options.Window;
        return new AttentionProblem
        {
            Shape = shape,
            Query = q,
            Key = k,
            Value = v,
            Output = o,
            Scale = scale,
            Softcap = options.Softcap,
            Causal = options.Causal,
            WindowLeft = window is { Left: >= 0 } w1 ? w1.Left : -1,
            WindowRight = window is { Right: >= 0 } w2 ? w2.Right : -1,
            KeyLengths = ValidateKeyLengths(options.KeyLengths.Span, shape),
            Mask = options.Mask,
            Bias = options.Bias,
            WantsLogSumExp = lengths.LogSumExp >= 0,
            WantsProbabilities = lengths.Probabilities >= 0,
        };
    }

    private static void ValidateShape(AttentionShape shape)
    {
        ThrowIfBelowOne(shape.Batch, nameof(shape.Batch));
        ThrowIfBelowOne(shape.QueryHeads, nameof(shape.QueryHeads));
        ThrowIfBelowOne(shape.KeyValueHeads, nameof(shape.KeyValueHeads));
        ThrowIfBelowOne(shape.QueryLength, nameof(shape.QueryLength));
        ThrowIfBelowOne(shape.KeyLength, nameof(shape.KeyLength));
        ThrowIfBelowOne(shape.HeadDim, nameof(shape.HeadDim));
        ThrowIfBelowOne(shape.ValueHeadDim, nameof(shape.ValueHeadDim));
        if (shape.QueryHeads % shape.KeyValueHeads != 0)
        {
            throw new ArgumentException(
                $"shape.QueryHeads ({shape.QueryHeads}) must be a multiple of shape.KeyValueHeads ({shape.KeyValueHeads}).",
                nameof(shape));
        }

        static void ThrowIfBelowOne(int value, string name)
        {
            if (value < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(shape), value, $"shape.{name} must be at least 1.");
            }
        }
    }

    private static void ThrowIfNegative(TensorStrides strides, string name)
    {
        if (strides.Batch < 0 || strides.Head < 0 || strides.Sequence < 0)
        {
            throw new ArgumentOutOfRangeException("options", strides, $"{name} must not be negative.");
        }
    }

    /// <summary>Rejects strides of a written tensor under which two of its elements share memory (a write race).</summary>
    internal static void ThrowIfOverlapping(
        TensorStrides strides, int batch, int heads, int length, int dim, string stridesName, string tensorName)
    {
        Span<(long Stride, long Count)> dims =
        [
            (strides.Batch, batch), (strides.Head, heads), (strides.Sequence, length),
        ];
        dims.Sort((a, b) => a.Stride.CompareTo(b.Stride));
        long extent = dim;
        foreach (var (stride, count) in dims)
        {
            if (count == 1)
            {
                continue;
            }

            if (stride < extent)
            {
                throw new ArgumentException(
                    $"{stridesName} {strides} make {tensorName} elements overlap for [{batch}, {heads}, {length}, {dim}].",
                    "options");
            }

            extent = (stride * (count - 1)) + extent;
        }
    }

    /// <summary>
    /// <see cref="TensorStrides.RequiredLength"/> without wrapping: in <see cref="long"/> arithmetic huge strides wrap to a
    /// small length that passes the check, and the kernels then address memory far outside the operand.
    /// </summary>
    internal static Int128 Extent(TensorStrides strides, int batch, int heads, int length, int dim) =>
        ((Int128)(batch - 1) * strides.Batch) + ((Int128)(heads - 1) * strides.Head) +
        ((Int128)(length - 1) * strides.Sequence) + dim;

    internal static void RequireLength(long actual, Int128 required, string parameter, string logical, AttentionShape shape)
    {
        if (actual < required)
        {
            throw new ArgumentException(
                $"{parameter} holds {actual} elements but {logical} with {shape} and the given layout needs {required}.",
                parameter);
        }
    }

    private static void ValidateScores<T>(BroadcastScores<T>? scores, string name, AttentionShape shape)
        where T : unmanaged
    {
        if (scores is null)
        {
            return;
        }

        if (scores.Batch != 1 && scores.Batch != shape.Batch)
        {
            throw new ArgumentException(
                $"{name}.Batch is {scores.Batch}; it must be 1 (broadcast) or the batch size {shape.Batch}.", "options");
        }

        if (scores.Heads != 1 && scores.Heads != shape.QueryHeads)
        {
            throw new ArgumentException(
                $"{name}.Heads is {scores.Heads}; it must be 1 (broadcast) or the query-head count {shape.QueryHeads}.",
                "options");
        }

        // Exactly: a mask of B·H planes declared with batch: 1, heads: 1 would otherwise pass, and its first plane
        // would stand for every (batch, head).
        long plane = (long)shape.QueryLength * shape.KeyLength;
        Int128 required = (Int128)scores.Batch * scores.Heads * plane;
        if (scores.Length != required)
        {
            string planes = scores.Length > required && scores.Length % plane == 0
                ? $" It holds {scores.Length / plane} Lq×Lk planes: declare its batch and heads (1 broadcasts) to match them."
                : string.Empty;
            throw new ArgumentException(
                $"{name} holds {scores.Length} elements but [{scores.Batch}, {scores.Heads}, Lq={shape.QueryLength}, " +
                $"Lk={shape.KeyLength}] needs exactly {required}.{planes}",
                "options");
        }

        if (scores.Tensor is { IsDisposed: true })
        {
            throw new ObjectDisposedException(name);
        }
    }

    private static int[]? ValidateKeyLengths(ReadOnlySpan<int> keyLengths, AttentionShape shape)
    {
        if (keyLengths.IsEmpty)
        {
            return null;
        }

        if (keyLengths.Length != shape.Batch)
        {
            throw new ArgumentException(
                $"options.KeyLengths has {keyLengths.Length} entries; it needs one per batch entry ({shape.Batch}).",
                "options");
        }

        foreach (int length in keyLengths)
        {
            if ((uint)length > (uint)shape.KeyLength)
            {
                throw new ArgumentOutOfRangeException(
                    "options", length, $"options.KeyLengths values must be in [0, Lk={shape.KeyLength}].");
            }
        }

        return keyLengths.ToArray();
    }
}
