namespace Attention.Native.Cpu.Simd;

/// <summary>
/// The vector operations the CPU kernels are written against. One struct implements it per ISA width
/// (<see cref="Vector512Ops"/>, <see cref="Vector256Ops"/>, <see cref="Vector128Ops"/>, <see cref="ScalarOps"/>);
/// the kernels are generic over it, so the JIT emits one specialised copy per width with every call inlined.
/// </summary>
/// <typeparam name="TVec">The vector type.</typeparam>
/// <remarks>
/// The struct is picked by <see cref="CpuIsa.Dispatch{TKernel}"/> (the one map from <see cref="CpuKernelVariant"/> to
/// an operator struct); the integer lane operations the 16-bit conversions need are in <see cref="ISimdBits{TVec}"/>.
/// </remarks>
internal unsafe interface ISimd<TVec> : ISimdBits<TVec>
    where TVec : unmanaged
{
    /// <summary>The variant this struct implements (what <see cref="CpuIsaObserver"/> records).</summary>
    static abstract CpuKernelVariant Variant { get; }

    /// <summary>Floats per vector.</summary>
    static abstract int Width { get; }

    /// <summary>Whether this width runs on hardware here (otherwise it is emulated and only good for tests).</summary>
    static abstract bool IsHardwareAccelerated { get; }

    static abstract TVec Zero { get; }

    static abstract TVec Broadcast(float value);

    static abstract TVec Load(float* source);

    static abstract void Store(float* destination, TVec value);

    static abstract TVec Add(TVec left, TVec right);

    static abstract TVec Subtract(TVec left, TVec right);

    static abstract TVec Multiply(TVec left, TVec right);

    /// <summary><c>a·b + c</c> in one rounding where the hardware has FMA.</summary>
    static abstract TVec MultiplyAdd(TVec a, TVec b, TVec c);

    static abstract TVec Max(TVec left, TVec right);

    /// <summary>Sum of the lanes.</summary>
    static abstract float Sum(TVec value);

    /// <summary>Largest lane.</summary>
    static abstract float MaxAcross(TVec value);

    /// <summary>
    /// <c>2^x</c> with relative error below 2e-7 for <c>−126 ≤ x ≤ 127</c>, exactly 0 below −126.5 (−∞ included)
    /// and never NaN. The online softmax only feeds it <c>x ≤ 0</c>.
    /// </summary>
    static abstract TVec Exp2(TVec x);

    /// <summary>
    /// <c>−∞</c> lanes of <paramref name="max"/> replaced by 0, so that <c>x − max</c> never computes <c>−∞ − (−∞)</c>.
    /// </summary>
    static abstract TVec FiniteOrZero(TVec max);

    /// <summary>
    /// <c>tanh(x)</c>, relative error below 3e-7, never overflows: <see cref="TanhPolynomial"/> for
    /// <c>|x| &lt; 0.625</c>, else <c>sign(x)·(1 − e)/(1 + e)</c> with <c>e = 2^(−2|x|·log₂e)</c>.
    /// </summary>
    static abstract TVec Tanh(TVec x);

    /// <summary><c>cap·tanh(x/cap)</c>, relative error below 4e-7 (so a cap far above the scores leaves them as they are).</summary>
    static abstract TVec SoftCap(TVec x, TVec cap, TVec inverseCap);
}
