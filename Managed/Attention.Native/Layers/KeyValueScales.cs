namespace Attention.Native.Layers;

/// <summary>
/// The per-KV-head scales of a <see cref="KeyValueCacheStorage.Float8E4M3"/> cache (vLLM's <c>k_scale</c> and
/// <c>v_scale</c>, one per KV head): an element <c>x</c> of head h's keys is stored as <c>e4m3(x / Keys[h])</c>, of its
/// values as <c>e4m3(x / Values[h])</c>. A calibrated scale is usually <c>max|x| / 448</c> over representative data.
/// </summary>
/// <param name="Keys">The keys' scales, one per KV head: finite and above 0.</param>
/// <param name="Values">The values' scales, one per KV head: finite and above 0.</param>
public sealed record KeyValueScales(float[] Keys, float[] Values)
{
    /// <summary>
    /// Throws when the scales do not fit a cache of <paramref name="heads"/> KV heads (null arrays, another length, a
    /// scale that is not finite or not above 0).
    /// </summary>
    internal void Validate(int heads, string parameter)
    {
        Check(Keys, "Keys", heads, parameter);
        Check(Values, "Values", heads, parameter);
    }

    private static void Check(float[]? scales, string name, int heads, string parameter)
    {
        if (scales is null || scales.Length != heads)
        {
            throw new ArgumentException(
                $"{parameter}.{name} must hold one scale per KV head ({heads}); it holds {scales?.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null"}.", parameter);
        }

        for (int h = 0; h < heads; h++)
        {
            if (!float.IsFinite(scales[h]) || scales[h] <= 0)
            {
                throw new ArgumentException($"{parameter}.{name}[{h}] is {scales[h]}: a scale must be finite and above 0.", parameter);
            }
        }
    }
}
