using System.Runtime.CompilerServices;

namespace Attention.Native.Cpu.Simd;

/// <summary>
/// One vector of K or V elements as floats, converted in registers as it is loaded: float as it is, BFloat16 by a
/// sign-extending load and a shift, Half by <see cref="HalfPrecisionConversions{TOps, TVec}.HalfBitsToSingle"/> (.NET
/// exposes no F16C or AVX-512 FP16 conversion, so this integer method, bit-identical to <c>(float)Half</c>, is the
/// widest there is), int8 by a widening load and an integer-to-float conversion (the caller applies its scale). The
/// decode kernel reads its rows through it, so 16-bit and 8-bit caches cost their own bytes of memory traffic and no
/// float copy of a block.
/// </summary>
internal static unsafe class ElementLoads<TOps, TVec>
    where TOps : ISimd<TVec>
    where TVec : unmanaged
{
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

        throw new NotSupportedException($"{typeof(T).Name} is not a key/value element type: float, Half, BFloat16 and sbyte are.");
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

        return ElementType.ToSingle(*source);
    }
}
