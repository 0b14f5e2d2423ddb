namespace Attention.Native.Validation;

/// <summary>
/// Checks a backward call before anything is written: the forward's operands and options as
/// <see cref="AttentionValidator"/> checks them, then the gradients' sizes under their operands' strides, strides under
/// which a written gradient's elements would share memory, and the bias gradient against the bias.
/// </summary>
internal static class AttentionBackwardValidator
{
    /// <summary>Lengths of the backward's operands, in elements; <c>BiasGrad</c>, <c>SinksGrad</c> −1 when not requested.</summary>
    public readonly record struct BackwardLengths(
        long Query, long Key, long Value, long Output, long LogSumExp, long OutputGrad, long QueryGrad, long KeyGrad,
        long ValueGrad, long BiasGrad, long SinksGrad);

    public static AttentionBackwardProblem Validate(AttentionShape shape, AttentionOptions options, BackwardLengths lengths)
    {
        var forward = AttentionValidator.Validate(shape, options, new(
            lengths.Query, lengths.Key, lengths.Value, lengths.Output, lengths.LogSumExp, -1));
        RequireLength(lengths.OutputGrad, forward.Output, shape.QueryHeads, shape.QueryLength, shape.ValueHeadDim,
            "outputGrad", "[B, Hq, Lq, Dv]", shape);
        RequireLength(lengths.QueryGrad, forward.Query, shape.QueryHeads, shape.QueryLength, shape.HeadDim,
            "queryGrad", "[B, Hq, Lq, D]", shape);
        RequireLength(lengths.KeyGrad, forward.Key, shape.KeyValueHeads, shape.KeyLength, shape.HeadDim,
            "keyGrad", "[B, Hkv, Lk, D]", shape);
        RequireLength(lengths.ValueGrad, forward.Value, shape.KeyValueHeads, shape.KeyLength, shape.ValueHeadDim,
            "valueGrad", "[B, Hkv, Lk, Dv]", shape);

        // The gradients are written through their operands' strides: strides that alias elements (a key broadcast over
        // heads with head stride 0, say) are fine to read but would make the writes race.
        AttentionValidator.ThrowIfOverlapping(forward.Query, shape.Batch, shape.QueryHeads, shape.QueryLength,
            shape.HeadDim, "options.QueryStrides", "queryGrad");
        AttentionValidator.ThrowIfOverlapping(forward.Key, shape.Batch, shape.KeyValueHeads, shape.KeyLength,
            shape.HeadDim, "options.KeyStrides", "keyGrad");
        AttentionValidator.ThrowIfOverlapping(forward.Value, shape.Batch, shape.KeyValueHeads, shape.KeyLength,
            shape.ValueHeadDim, "options.ValueStrides", "valueGrad");

        if (lengths.BiasGrad >= 0)
        {
            if (options.Bias is not { } bias)
            {
                throw new ArgumentException("biasGrad is given but options.Bias is not set: there is no bias to differentiate.", "biasGrad");
            }

            if (lengths.BiasGrad != bias.Length)
            {
                throw new ArgumentException(
                    $"biasGrad holds {lengths.BiasGrad} elements but options.Bias, [{bias.Batch}, {bias.Heads}, " +
                    $"Lq={shape.QueryLength}, Lk={shape.KeyLength}], holds {bias.Length}: the gradient has the bias's broadcast shape.",
                    "biasGrad");
            }
        }

        if (lengths.SinksGrad >= 0)
        {
            if (forward.Sinks is null)
            {
                throw new ArgumentException("sinksGrad is given but options.Sinks is empty: there are no sinks to differentiate.", "sinksGrad");
            }

            if (lengths.SinksGrad != shape.QueryHeads)
            {
                throw new ArgumentException(
                    $"sinksGrad holds {lengths.SinksGrad} elements; it takes one per query head, [Hq={shape.QueryHeads}].", "sinksGrad");
            }
        }

        return new AttentionBackwardProblem
        {
            Forward = forward,
            WantsBiasGrad = lengths.BiasGrad >= 0,
            WantsSinksGrad = lengths.SinksGrad >= 0,
        };
    }

    private static void RequireLength(
        long actual, TensorStrides strides, int heads, int length, int dim, string parameter, string logical, AttentionShape shape) =>
        AttentionValidator.RequireLength(
            actual, AttentionValidator.Extent(strides, shape.Batch, heads, length, dim), parameter, logical, shape);
}
