namespace Attention.Native.Layers;

/// <summary>
/// The masks of one layer call, in this library's convention: boolean <b>true = attend</b>. All combine with AND.
/// The static <c>From…</c> helpers convert PyTorch's and Keras' conventions.
/// </summary>
/// <remarks>
/// Shapes (row-major): <see cref="KeyPadding"/> <c>[B, Lk]</c>; <see cref="AttentionMask"/> and
/// <see cref="AttentionBias"/> <c>[Lq, Lk]</c> (shared), <c>[B, Lq, Lk]</c> (Keras' <c>attention_mask</c>) or
/// <c>[B, H, Lq, Lk]</c> (PyTorch's 3-D <c>attn_mask</c> of <c>[B·H, Lq, Lk]</c>), told apart by their length.
/// Rows that see no key output 0 and weights 0 (PyTorch gives NaN there).
/// </remarks>
public sealed record LayerMasks
{
    /// <summary>Key padding, <c>[B, Lk]</c>, true = the key is real (attend). Empty for none.</summary>
    public ReadOnlyMemory<bool> KeyPadding { get; init; }

    /// <summary>Per-batch valid key counts (right padding), <c>[B]</c>. Empty for none.</summary>
    public ReadOnlyMemory<int> KeyLengths { get; init; }

    /// <summary>Causal mask and its alignment; <see cref="CausalMask.None"/> by default.</summary>
    public CausalMask Causal { get; init; }

    /// <summary>Boolean attention mask, true = attend; <c>[Lq, Lk]</c>, <c>[B, Lq, Lk]</c> or <c>[B, H, Lq, Lk]</c>. Empty for none.</summary>
    public ReadOnlyMemory<bool> AttentionMask { get; init; }

    /// <summary>Additive mask added to the scores (−∞ masks), shaped like <see cref="AttentionMask"/>. Empty for none.</summary>
    public ReadOnlyMemory<float> AttentionBias { get; init; }

    /// <summary>
    /// Converts PyTorch <c>nn.MultiheadAttention</c>'s <c>key_padding_mask</c> (bool, <b>true = ignore</b>) into
    /// <see cref="KeyPadding"/> (true = attend): every value negated.
    /// </summary>
    /// <param name="keyPaddingMask">PyTorch's mask, <c>[B, Lk]</c>.</param>
    /// <returns>The mask in this library's convention.</returns>
    public static bool[] FromPyTorchKeyPaddingMask(ReadOnlySpan<bool> keyPaddingMask) => Negated(keyPaddingMask);

    /// <summary>
    /// Converts PyTorch <c>nn.MultiheadAttention</c>'s boolean <c>attn_mask</c> (<b>true = not allowed</b>) into
    /// <see cref="AttentionMask"/> (true = attend). A float <c>attn_mask</c> is additive: pass it as
    /// <see cref="AttentionBias"/> unchanged.
    /// </summary>
    /// <param name="attnMask">PyTorch's mask, <c>[Lq, Lk]</c> or <c>[B·H, Lq, Lk]</c>.</param>
    /// <returns>The mask in this library's convention.</returns>
    public static bool[] FromPyTorchAttentionMask(ReadOnlySpan<bool> attnMask) => Negated(attnMask);

    /// <summary>
    /// Converts a Keras mask (<c>attention_mask</c> <c>[B, Lq, Lk]</c>, or a padding mask <c>[B, Lk]</c>; 1 = attend,
    /// 0 = masked, as floats or ints) into a boolean mask: true where the value is non-zero.
    /// </summary>
    /// <param name="mask">The Keras mask.</param>
    /// <returns>The mask in this library's convention (already true = attend).</returns>
    public static bool[] FromKerasMask(ReadOnlySpan<float> mask)
    {
        var result = new bool[mask.Length];
        for (int i = 0; i < mask.Length; i++)
        {
            result[i] = mask[i] != 0;
        }

        return result;
    }

    private static bool[] Negated(ReadOnlySpan<bool> mask)
    {
        var result = new bool[mask.Length];
        for (int i = 0; i < mask.Length; i++)
        {
            result[i] = !mask[i];
        }

        return result;
    }
}
