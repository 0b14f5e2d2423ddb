using System.Runtime.CompilerServices;
using Attention.Native.Cpu.Decode;

namespace Attention.Native.Cpu.Simd;

/// <summary>
/// One vector of K or V elements as floats, converted in registers as it is loaded: float as it is, BFloat16 by a
/// sign-extending load and a shift, Half by <see cref="HalfPrecisionConversions{TOps, TVec}.HalfBitsToSingle"/> (.NET
/// exposes no F16C or AVX-512 FP16 conversion, so this integer method, bit-identical to <c>(float)Half</c>, is the
/// widest there is), int8 by a widening load and an integer-to-float conversion, fp8 e4m3 by a widening load, a shift,
/// a mask and a multiply (<see cref="Float8E4M3Quantizer.DecodeMask"/>; the caller applies either's scale). The
/// decode kernel reads its rows through it, so 16-bit and 8-bit caches cost their own bytes of memory traffic and no
/// float copy of a block.
/// </summary>
internal static unsafe class ElementLoads<TOps, TVec>
    where TOps : ISimd<TVec>
    where TVec : unmanaged
{
    /// <summary>An e4m3 code's seven magnitude bits where the load's shift puts them.</summary>
    private const uint NaNCodeBits = 0x07F0_0000;

    /// <summary><see cref="ISimd{TVec}.Width"/> elements from <paramref name="source"/>, as floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Load<T>(T* source)
        where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            return TOps.Load((float*)source);
        }

        if (typeof(T) == typeof(BFloat16))
        {
            return TOps.ShiftLeftBits(TOps.LoadSignExtended((short*)source), 16);
        }

        if (typeof(T) == typeof(Half))
        {
            return HalfPrecisionConversions<TOps, TVec>.HalfBitsToSingle(TOps.LoadSignExtended((short*)source));
        }

        if (typeof(T) == typeof(sbyte))
        {
            return TOps.LoadBytesAsSingle((sbyte*)source);
        }

        if (typeof(T) == typeof(Fp8E4M3))
        {
            TVec shifted = TOps.ShiftLeftBits(TOps.LoadBytesSignExtended((sbyte*)source), 20);
            TVec value = TOps.Multiply(
                TOps.And(shifted, TOps.BroadcastBits(Float8E4M3Quantizer.DecodeMask)), TOps.Broadcast(Float8E4M3Quantizer.DecodeFactor));

            // The NaN codes (all seven exponent and mantissa bits set) would read as ±480.
            TVec magnitude = TOps.And(shifted, TOps.BroadcastBits(NaNCodeBits));
            return TOps.Select(TOps.EqualsBits(magnitude, TOps.BroadcastBits(NaNCodeBits)), TOps.Broadcast(float.NaN), value);
        }

        throw new NotSupportedException($"{typeof(T).Name} is not a key/value element type: float, Half, BFloat16, sbyte and Fp8E4M3 are.");
    }

    /// <summary>The element at <paramref name="source"/> as a float (the rows' tails past the last whole vector).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Scalar<T>(T* source)
        where T : unmanaged
    {
        if (typeof(T) == typeof(sbyte))
        {
            return *(sbyte*)source;
        }

        if (typeof(T) == typeof(Fp8E4M3))
        {
            return Float8E4M3Quantizer.Decode(*(byte*)source);
        }

        return ElementType.ToSingle(*source);
    }
}
