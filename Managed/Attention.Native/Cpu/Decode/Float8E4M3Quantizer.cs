using System.Runtime.CompilerServices;

namespace Attention.Native.Cpu.Decode;

/// <summary>
/// One byte of an fp8 e4m3 key/value cache as the decode kernel's row type (<c>TKv</c>): its loads convert it in
/// registers (<see cref="Simd.ElementLoads{TOps, TVec}"/>), its bits are <see cref="Float8E4M3Quantizer"/>'s codes.
/// </summary>
internal readonly struct Fp8E4M3
{
    /// <summary>The code.</summary>
    public readonly byte Bits;
}

/// <summary>
/// The fp8 key/value cache's number format, OCP e4m3fn (1 sign, 4 exponent bits of bias 7, 3 mantissa bits; no
/// infinities, <c>0x7F</c>/<c>0xFF</c> NaN, largest finite 448, subnormals <c>m·2^−9</c>), with one float scale per KV
/// head: an element <c>x</c> is stored as <c>e4m3(x / s)</c>, rounded to nearest, ties to even, saturated at ±448
/// (infinities too), NaN kept NaN; it stands for <c>e4m3·s</c>. Bit for bit the CUDA quantiser's
/// (<c>kv_cache_quantize_e4m3_*</c>, Native/kv_cache.cu).
/// </summary>
internal static unsafe class Float8E4M3Quantizer
{
    /// <summary>The largest finite magnitude.</summary>
    public const float Max = 448f;

    /// <summary>The float bits of 448, the saturation threshold.</summary>
    private const uint MaxBits = 0x43E0_0000;

    /// <summary>The float bits of 2^−6, the smallest normal e4m3 magnitude.</summary>
    private const uint SmallestNormalBits = 0x3C80_0000;

    /// <summary>
    /// The float bits of an e4m3 code's value times 2^−120: the code sign-extended, shifted left 20 (sign to bit 31,
    /// exponent and mantissa to the float's low exponent and high mantissa bits), masked — exact, subnormals included,
    /// since both formats' subnormals and normals line up under the one power of two.
    /// </summary>
    public const uint DecodeMask = 0x87F0_0000;

    /// <summary>2^120, what <see cref="DecodeMask"/>'s bits are multiplied by.</summary>
    public static readonly float DecodeFactor = BitConverter.UInt32BitsToSingle(0x7B80_0000);

    /// <summary>The code of <paramref name="value"/>: round to nearest even, saturated at ±448, NaN to 0x7F (signed).</summary>
    public static byte Encode(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        uint sign = (bits >> 24) & 0x80;
        uint magnitude = bits & 0x7FFF_FFFF;
        if (magnitude > 0x7F80_0000)
        {
            return (byte)(sign | 0x7F);
        }

        if (magnitude >= MaxBits)
        {
            return (byte)(sign | 0x7E);
        }

        if (magnitude < SmallestNormalBits)
        {
            // Steps of 2^−9 (the product is exact); 8 steps round up into the smallest normal, code 0x08.
            return (byte)(sign | (uint)MathF.Round(BitConverter.UInt32BitsToSingle(magnitude) * 512f, MidpointRounding.ToEven));
        }

        // Round the 23 mantissa bits to 3, ties to even (a carry moves into the exponent), then rebias 127 → 7.
        uint rounded = (magnitude + 0x7_FFFF + ((magnitude >> 20) & 1)) >> 20;
        return (byte)(sign | (rounded - (120 << 3)));
    }

    /// <summary>The value of <paramref name="code"/> (NaN for 0x7F and 0xFF), by the decode kernel's bit rule.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Decode(byte code)
    {
        if ((code & 0x7F) == 0x7F)
        {
            return float.NaN;
        }

        return BitConverter.Int32BitsToSingle(((sbyte)code << 20) & unchecked((int)DecodeMask)) * DecodeFactor;
    }

    /// <summary>
    /// The scale of a KV head taken from the values it first stores (vLLM's <c>calculate_kv_scales</c>):
    /// <c>max|x| / 448</c> over the finite ones, 1 where there is no finite non-zero one.
    /// </summary>
    public static float ScaleOf(float finiteMax) => finiteMax / Max > 0 ? finiteMax / Max : 1f;

    /// <summary>The largest finite magnitude of <paramref name="count"/> floats, or 0.</summary>
    public static float FiniteMax(float* source, int count)
    {
        float max = 0;
        for (int i = 0; i < count; i++)
        {
            float magnitude = MathF.Abs(source[i]);
            max = float.IsFinite(magnitude) && magnitude > max ? magnitude : max;
        }

        return max;
    }

    /// <summary>
    /// Folds one row of <paramref name="heads"/>·<paramref name="dim"/> floats, head by head, into each head's running
    /// <see cref="FiniteMax"/> in <paramref name="maxima"/>: the layers' first-append scales, a row at a time as each
    /// backend widens it.
    /// </summary>
    public static void FoldHeadMaxima(float* row, int heads, int dim, Span<float> maxima)
    {
        for (int h = 0; h < heads; h++)
        {
            maxima[h] = Math.Max(maxima[h], FiniteMax(row + (h * dim), dim));
        }
    }

    /// <summary>Quantises <paramref name="count"/> floats into <paramref name="destination"/> with <paramref name="scale"/>.</summary>
    public static void QuantizeRow(float* source, byte* destination, int count, float scale)
    {
        for (int i = 0; i < count; i++)
        {
            destination[i] = Encode(source[i] / scale);
        }
    }
}
