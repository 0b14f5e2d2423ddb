using System.Globalization;

namespace Attention.Native;

/// <summary>
/// A 16-bit brain floating-point number (1 sign, 8 exponent, 7 mantissa bits): the upper half of a
/// <see cref="float"/>, with float's range and about three significant decimal digits.
/// </summary>
/// <remarks>
/// Conversion from <see cref="float"/> rounds to nearest, ties to even; NaN stays NaN. Comparison follows
/// <see cref="float"/>: <c>==</c> is IEEE equality (+0 equals −0, NaN equals nothing) and <see cref="Equals(BFloat16)"/>
/// treats NaN as equal to itself, so values work as dictionary keys.
/// </remarks>
public readonly struct BFloat16 : IEquatable<BFloat16>
{
    private BFloat16(ushort bits) => RawValue = bits;

    /// <summary>The raw bits.</summary>
    public ushort RawValue { get; }

    /// <summary>Wraps raw bits.</summary>
    /// <param name="bits">The bit pattern.</param>
    /// <returns>The value.</returns>
    public static BFloat16 FromRawValue(ushort bits) => new(bits);

    /// <summary>Rounds a float to the nearest bfloat16 (ties to even).</summary>
    /// <param name="value">The value.</param>
    public static explicit operator BFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            return new((ushort)((bits >> 16) | 0x40));
        }

        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return new((ushort)((bits + rounding) >> 16));
    }

    /// <summary>Widens to float exactly.</summary>
    /// <param name="value">The value.</param>
    public static implicit operator float(BFloat16 value) => BitConverter.UInt32BitsToSingle((uint)value.RawValue << 16);

    /// <summary>IEEE equality, as for <see cref="float"/>.</summary>
    /// <param name="left">Left operand.</param>
    /// <param name="right">Right operand.</param>
    /// <returns>True when the values are equal (false when either is NaN).</returns>
    public static bool operator ==(BFloat16 left, BFloat16 right) => (float)left == (float)right;

    /// <summary>IEEE inequality, as for <see cref="float"/>.</summary>
    /// <param name="left">Left operand.</param>
    /// <param name="right">Right operand.</param>
    /// <returns>True when the values differ (true when either is NaN).</returns>
    public static bool operator !=(BFloat16 left, BFloat16 right) => (float)left != (float)right;

    /// <summary>Widens to float.</summary>
    /// <returns>The value as a float.</returns>
    public float ToSingle() => this;

    /// <inheritdoc />
    public bool Equals(BFloat16 other) => ((float)this).Equals((float)other);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is BFloat16 other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => ((float)this).GetHashCode();

    /// <inheritdoc />
    public override string ToString() => ((float)this).ToString(CultureInfo.InvariantCulture);
}
