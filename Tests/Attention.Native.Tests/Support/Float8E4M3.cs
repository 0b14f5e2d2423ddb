namespace Attention.Native.Tests.Support;

/// <summary>
/// OCP fp8 e4m3fn for the tests' host-side quantiser: 1 sign, 4 exponent (bias 7), 3 mantissa bits, no infinities,
/// 0x7F and 0xFF NaN, largest finite 448, subnormals m · 2^−9. <see cref="Encode"/> rounds to nearest, ties to even,
/// and saturates at ±448 (the "satfinite" conversion); <see cref="Float8E4M3Tests"/> holds both directions to known
/// codes.
/// </summary>
public static class Float8E4M3
{
    /// <summary>The largest finite magnitude.</summary>
    public const float Max = 448f;

    /// <summary>The code of <paramref name="value"/> (finite): round to nearest even, saturated at ±448.</summary>
    public static byte Encode(float value)
    {
        if (!float.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "Only finite values are encoded.");
        }

        int sign = value < 0 || (value == 0 && float.IsNegative(value)) ? 0x80 : 0;
        double magnitude = Math.Min(Math.Abs((double)value), Max);
        int code;
        if (magnitude < 0.015625)
        {
            // Subnormal steps of 2^−9; a round up to 8 steps is the smallest normal, code 0x08, as the formula gives.
            code = (int)Math.Round(magnitude * 512.0, MidpointRounding.ToEven);
        }
        else
        {
            int exponent = (int)Math.Floor(Math.Log2(magnitude));
            double mantissa = Math.Round(((magnitude / Math.Pow(2, exponent)) - 1) * 8, MidpointRounding.ToEven);
            if (mantissa == 8)
            {
                exponent++;
                mantissa = 0;
            }

            code = Math.Min(((exponent + 7) << 3) | (int)mantissa, 0x7E);
        }

        return (byte)(sign | code);
    }

    /// <summary>The value of <paramref name="code"/>; NaN for 0x7F and 0xFF.</summary>
    public static float Decode(byte code)
    {
        int magnitude = code & 0x7F;
        if (magnitude == 0x7F)
        {
            return float.NaN;
        }

        int exponent = magnitude >> 3, mantissa = magnitude & 7;
        double value = exponent == 0 ? mantissa / 512.0 : Math.Pow(2, exponent - 7) * (1 + (mantissa / 8.0));
        return (float)((code & 0x80) != 0 ? -value : value);
    }
}
