using System.Runtime.CompilerServices;

namespace Attention.Native.Cpu.Decode;

/// <summary>
/// The int8 key/value cache's number format: each row of D elements (one token's key or value for one KV head) is
/// stored as signed bytes <c>q</c> with one float scale <c>s = max|x| / 127</c>, <c>q = round(x / s)</c> (to nearest,
/// ties to even; in [−127, 127]); it stands for <c>q·s</c>, within <c>s/2</c> of <c>x</c>. A row of zeros has scale 0; a
/// row holding an infinity or NaN has scale NaN, so that everything it reaches is NaN, as it would be unquantised.
/// </summary>
internal static unsafe class Int8Quantizer
{
    /// <summary>The largest magnitude stored: symmetric, so −128 is never used and negating a row is exact.</summary>
    public const float Levels = 127f;

    /// <summary>
    /// Quantises <paramref name="count"/> floats into <paramref name="destination"/> and returns the row's scale.
    /// </summary>
    public static float QuantizeRow(float* source, sbyte* destination, int count)
    {
        float max = 0;
        for (int i = 0; i < count; i++)
        {
            // NaN fails every comparison: caught below with the infinities.
            float magnitude = MathF.Abs(source[i]);
            max = magnitude > max || float.IsNaN(magnitude) ? magnitude : max;
        }

        if (!float.IsFinite(max))
        {
            new Span<sbyte>(destination, count).Clear();
            return float.NaN;
        }

        if (max == 0)
        {
            new Span<sbyte>(destination, count).Clear();
            return 0;
        }

        float scale = max / Levels;
        for (int i = 0; i < count; i++)
        {
            destination[i] = (sbyte)Math.Clamp(MathF.Round(source[i] / scale), -Levels, Levels);
        }

        return scale;
    }

    /// <summary>A stored element's value, <c>q·s</c> (what the decode kernel computes with).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dequantize(sbyte stored, float scale) => stored * scale;
}
