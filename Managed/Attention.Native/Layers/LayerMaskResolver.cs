namespace Attention.Native.Layers;

/// <summary>
/// Turns a layer's <see cref="LayerMasks"/> into the fused attention's options: key padding and the boolean mask are
/// merged into one <see cref="Attention.Native.AttentionMask"/> (the kernel's mask has no <c>[B, Lk]</c> broadcast),
/// the bias, key lengths and causal mask pass through. Validates every size first, naming the mask.
/// </summary>
internal static class LayerMaskResolver
{
    public static AttentionOptions Resolve(LayerMasks? masks, int batch, int heads, int queryLength, int keyLength, float scale)
    {
        var options = new AttentionOptions { Scale = scale };
        if (masks is null)
        {
            return options;
        }

        if (masks.Causal is not (CausalMask.None or CausalMask.TopLeft or CausalMask.BottomRight))
        {
            throw new ArgumentOutOfRangeException(nameof(masks), masks.Causal, "masks.Causal is not a defined CausalMask.");
        }

        if (!masks.KeyPadding.IsEmpty && masks.KeyPadding.Length != (long)batch * keyLength)
        {
            throw new ArgumentException(
                $"masks.KeyPadding has {masks.KeyPadding.Length} elements; expected [B={batch}, Lk={keyLength}] = {(long)batch * keyLength}.",
                nameof(masks));
        }

        if (!masks.KeyLengths.IsEmpty && masks.KeyLengths.Length != batch)
        {
            throw new ArgumentException(
                $"masks.KeyLengths has {masks.KeyLengths.Length} elements; expected one per batch (B={batch}).", nameof(masks));
        }

        foreach (int length in masks.KeyLengths.Span)
        {
            if ((uint)length > (uint)keyLength)
            {
                throw new ArgumentOutOfRangeException(
                    nameof(masks), length, $"masks.KeyLengths values must be in [0, Lk={keyLength}].");
            }
        }

        var (maskBatch, maskHeads) = Broadcast(masks.AttentionMask.Length, "masks.AttentionMask", batch, heads, queryLength, keyLength);
        var (biasBatch, biasHeads) = Broadcast(masks.AttentionBias.Length, "masks.AttentionBias", batch, heads, queryLength, keyLength);
        return options with
        {
            Causal = masks.Causal,
            KeyLengths = masks.KeyLengths,
            Mask = MergedMask(masks, batch, maskBatch, maskHeads, queryLength, keyLength),
            Bias = masks.AttentionBias.IsEmpty ? null : new AttentionBias(masks.AttentionBias, biasBatch, biasHeads),
        };
    }

    /// <summary>The (batch, heads) broadcast of a <c>[Lq, Lk]</c>, <c>[B, Lq, Lk]</c> or <c>[B, H, Lq, Lk]</c> operand.</summary>
    private static (int Batch, int Heads) Broadcast(int length, string name, int batch, int heads, int queryLength, int keyLength)
    {
        long plane = (long)queryLength * keyLength;
        if (length == 0 || length == plane)
        {
            return (1, 1);
        }

        if (length == batch * plane)
        {
            return (batch, 1);
        }

        if (length == (long)batch * heads * plane)
        {
            return (batch, heads);
        }

        throw new ArgumentException(
            $"{name} has {length} elements; expected [Lq={queryLength}, Lk={keyLength}] = {plane}, [B={batch}, Lq, Lk] = {batch * plane} or [B, H={heads}, Lq, Lk] = {(long)batch * heads * plane}.",
            "masks");
    }

    private static AttentionMask? MergedMask(LayerMasks masks, int batch, int maskBatch, int maskHeads, int queryLength, int keyLength)
    {
        var padding = masks.KeyPadding.Span;
        if (padding.IsEmpty)
        {
            return masks.AttentionMask.IsEmpty ? null : new AttentionMask(masks.AttentionMask, maskBatch, maskHeads);
        }

        // Key padding varies by batch, so the merged mask has B planes (per head where the attention mask has them).
        var attend = masks.AttentionMask.Span;
        long plane = (long)queryLength * keyLength;
        var merged = new bool[batch * maskHeads * plane];
        for (int b = 0; b < batch; b++)
        {
            for (int h = 0; h < maskHeads; h++)
            {
                long source = (((maskBatch == 1 ? 0 : b) * maskHeads) + h) * plane;
                long target = ((b * maskHeads) + h) * plane;
                for (long e = 0; e < plane; e++)
                {
                    merged[target + e] = padding[(b * keyLength) + (int)(e % keyLength)] && (attend.IsEmpty || attend[(int)(source + e)]);
                }
            }
        }

        return new AttentionMask(merged, batch, maskHeads);
    }
}
