namespace Attention.Native;

/// <summary>
/// Local (sliding-window) attention, aligned bottom-right like FlashAttention's <c>window_size</c>: query <c>i</c>
/// sees keys <c>j</c> with <c>i + Lk − Lq − Left ≤ j ≤ i + Lk − Lq + Right</c>, where <c>Lk</c> is the per-batch key
/// length when <see cref="AttentionOptions.KeyLengths"/> is set. A negative side is unbounded.
/// </summary>
/// <param name="Left">Keys before the aligned diagonal that stay visible; negative for unbounded.</param>
/// <param name="Right">Keys after the aligned diagonal that stay visible; negative for unbounded.</param>
public readonly record struct SlidingWindow(int Left, int Right)
{
    /// <summary>A window of <paramref name="left"/> keys back and none ahead (Mistral-style causal local attention).</summary>
    /// <param name="left">Keys before the diagonal that stay visible.</param>
    /// <returns>The window.</returns>
    public static SlidingWindow Causal(int left) => new(left, 0);
}
