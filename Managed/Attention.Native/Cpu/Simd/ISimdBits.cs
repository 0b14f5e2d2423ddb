namespace Attention.Native.Cpu.Simd;

/// <summary>
/// Integer operations on the 32-bit lanes of a float vector, its bits reinterpreted: what the float ⇄ Half/BFloat16
/// conversions compute with (<see cref="HalfPrecisionConversions{TOps, TVec}"/>), so that they too run in the variant
/// the kernels run in. A lane holding bits is only moved and combined bitwise or as an integer, never rounded. The
/// vector implementations work on the integer view (<c>AsUInt32</c>) even for and, or and select: float-typed ones
/// (<c>vandps</c>, <c>vblendvps</c>) between the integer shifts and adds cost a bypass delay each on Zen 3, which made
/// a Half decoding step 7 % slower.
/// </summary>
/// <typeparam name="TVec">The vector type.</typeparam>
internal unsafe interface ISimdBits<TVec>
    where TVec : unmanaged
{
    /// <summary>Every lane holds <paramref name="bits"/>.</summary>
    static abstract TVec BroadcastBits(uint bits);

    static abstract TVec And(TVec left, TVec right);

    static abstract TVec Or(TVec left, TVec right);

    static abstract TVec Xor(TVec left, TVec right);

    /// <summary>Lane-wise unsigned 32-bit sum (wrapping).</summary>
    static abstract TVec AddBits(TVec left, TVec right);

    /// <summary>Lane-wise unsigned 32-bit difference (wrapping).</summary>
    static abstract TVec SubtractBits(TVec left, TVec right);

    static abstract TVec ShiftLeftBits(TVec value, int count);

    /// <summary>Logical (zero-filling) right shift of each 32-bit lane.</summary>
    static abstract TVec ShiftRightBits(TVec value, int count);

    /// <summary>All ones where the lanes' bits are equal, else zero.</summary>
    static abstract TVec EqualsBits(TVec left, TVec right);

    /// <summary>All ones where <paramref name="left"/> &gt; <paramref name="right"/> as signed 32-bit integers, else zero.</summary>
    static abstract TVec GreaterThanBits(TVec left, TVec right);

    /// <summary>The bits of <paramref name="ifTrue"/> where <paramref name="mask"/> has ones, else those of <paramref name="ifFalse"/>.</summary>
    static abstract TVec Select(TVec mask, TVec ifTrue, TVec ifFalse);

    /// <summary>Two vectors' worth of 16-bit values, sign-extended to 32-bit lanes: the first half into <paramref name="low"/>.</summary>
    static abstract void LoadWidened(ushort* source, out TVec low, out TVec high);

    /// <summary>
    /// One vector's worth of 16-bit values, sign-extended to 32-bit lanes: one widening load (<c>vpmovsxwd</c> on x64),
    /// what the decode kernel converts Half and BFloat16 rows with, in registers.
    /// </summary>
    static abstract TVec LoadSignExtended(short* source);

    /// <summary>One vector's worth of bytes, sign-extended to 32-bit lanes (<c>vpmovsxbd</c> on x64): what the decode
    /// kernel converts an fp8 e4m3 cache's rows from, in registers (<see cref="ElementLoads{TOps, TVec}"/>).</summary>
    static abstract TVec LoadBytesSignExtended(sbyte* source);

    /// <summary>One vector's worth of signed bytes as floats (exact): a widening load and a conversion (<c>vpmovsxbd</c>,
    /// <c>vcvtdq2ps</c> on x64), what the decode kernel reads an int8 cache's rows with.</summary>
    static abstract TVec LoadBytesAsSingle(sbyte* source);

    /// <summary>The low 16 bits of each lane of <paramref name="low"/>, then of <paramref name="high"/>, stored contiguously.</summary>
    static abstract void StoreNarrowed(ushort* destination, TVec low, TVec high);
}
