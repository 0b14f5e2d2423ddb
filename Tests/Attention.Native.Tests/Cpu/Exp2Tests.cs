using System.Runtime.Intrinsics;
using Attention.Native.Cpu;
using Attention.Native.Cpu.Simd;

namespace Attention.Native.Tests.Cpu;

/// <summary>
/// The vector math every kernel variant relies on (<c>Exp2</c>, <c>SoftCap</c>, <c>FiniteOrZero</c>), per
/// <see cref="ISimd{TVec}"/> implementation, checked lane by lane against double-precision math. Inputs are loaded
/// from arrays a whole vector at a time, so special values share vectors with ordinary ones.
/// </summary>
public sealed unsafe class Exp2Tests
{
    private const double Tolerance = 3e-7;

    private const double SoftCapTolerance = 4e-7;

    private enum Operation
    {
        Exp2,
        SoftCap,
        FiniteOrZero,
    }

    public static TheoryData<CpuKernelVariant> Variants =>
        new(CpuKernelVariant.Vector512, CpuKernelVariant.Vector256, CpuKernelVariant.Vector128, CpuKernelVariant.Scalar);

    [Theory]
    [MemberData(nameof(Variants))]
    public void Exp2_matches_Math_Pow_to_3e7_relative(CpuKernelVariant variant)
    {
        const int seed = 4;
        var random = TestRandom.Create(seed);
        var x = new List<float>();
        for (int n = -126; n <= 20; n++)
        {
            x.AddRange([n, n + 0.5f, n - 0.5f, MathF.BitDecrement(n), MathF.BitIncrement(n)]);
        }

        x.AddRange(Enumerable.Range(0, 4000).Select(_ => -126f * random.NextSingle()));
        x.AddRange(Enumerable.Range(0, 500).Select(_ => 20f * (1f - random.NextSingle())));
        x.AddRange(Enumerable.Range(0, 500).Select(_ => -random.NextSingle() * 1e-3f));
        var inputs = x.Where(v => v is >= -126f and <= 20f).ToArray();
        var y = Apply(variant, Operation.Exp2, inputs);
        for (int i = 0; i < inputs.Length; i++)
        {
            double expected = Math.Pow(2, inputs[i]);
            double error = Math.Abs(y[i] - expected) / expected;
            Assert.True(error <= Tolerance, $"{variant} Exp2({inputs[i]:R}) = {y[i]:R}, expected {expected:R}: relative error {error:E2} ({TestRandom.Describe(seed)})");
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Exp2_flushes_below_minus_126_5_to_zero_and_never_returns_NaN(CpuKernelVariant variant)
    {
        float[] underflow = [float.NegativeInfinity, -127.5f, -126.51f, -127f, -1000f, -1e30f, float.MinValue, -126.75f];
        float[] others = [0f, -0f, 1f, -1f, 100f, 127f, 127.4f, 128f, 1e30f, float.MaxValue, float.PositiveInfinity, -126f, float.Epsilon];

        // Interleave, so that flushed lanes sit next to ordinary ones in every vector.
        var x = underflow.Zip(others).SelectMany(p => new[] { p.First, p.Second }).Concat(others.Skip(underflow.Length)).ToArray();
        var y = Apply(variant, Operation.Exp2, x);
        for (int i = 0; i < x.Length; i++)
        {
            Assert.False(float.IsNaN(y[i]), $"{variant} Exp2({x[i]:R}) is NaN");
            if (Array.IndexOf(underflow, x[i]) >= 0)
            {
                Assert.True(y[i] == 0f, $"{variant} Exp2({x[i]:R}) = {y[i]:R}, expected 0");
            }
        }

        Assert.Equal(1f, Apply(variant, Operation.Exp2, [0f])[0]);
        Assert.Equal(BitConverter.Int32BitsToSingle(1 << 23), Apply(variant, Operation.Exp2, [-126f])[0]);

        // Between −126.5 and −126 the result is below the smallest normal float: tiny, never negative, never NaN.
        float nearFlush = Apply(variant, Operation.Exp2, [-126.25f])[0];
        Assert.InRange(nearFlush, 0f, BitConverter.Int32BitsToSingle(1 << 23));
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void SoftCap_matches_cap_tanh_to_4e7_relative(CpuKernelVariant variant)
    {
        const int seed = 5;
        var random = TestRandom.Create(seed);
        // 1e8: a cap far above the scores, where tanh(x/cap) sees arguments near 1e-8 and must keep their digits.
        foreach (float cap in new[] { 1f, 5f, 30f, 50f, 1000f, 1e8f })
        {
            var x = Enumerable.Range(0, 3000).Select(_ => (random.NextSingle() - 0.5f) * 40f * cap)
                .Concat(Enumerable.Range(0, 300).Select(_ => (random.NextSingle() - 0.5f) * 1e-3f * cap))
                .Concat([0f, -0f, cap, -cap, float.MaxValue, float.MinValue, float.PositiveInfinity, float.NegativeInfinity])
                .ToArray();
            var y = Apply(variant, Operation.SoftCap, x, cap);
            var negated = Apply(variant, Operation.SoftCap, x.Select(v => -v).ToArray(), cap);
            for (int i = 0; i < x.Length; i++)
            {
                double expected = cap * Math.Tanh(x[i] / (double)cap);
                string context = $"{variant} SoftCap({x[i]:R}, cap {cap}) = {y[i]:R}, expected {expected:R} ({TestRandom.Describe(seed)})";
                // Relative to the result, with the rounding of x/cap and of cap·tanh on top of tanh's own 3e-7.
                Assert.True(Math.Abs(y[i] - expected) <= (Math.Abs(expected) * SoftCapTolerance) + float.Epsilon, context);
                Assert.True(Math.Abs(y[i]) <= cap, context);
                Assert.True(negated[i] == -y[i], $"{context}: not odd, SoftCap(-x) = {negated[i]:R}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void FiniteOrZero_replaces_only_negative_infinity(CpuKernelVariant variant)
    {
        float[] x = [float.NegativeInfinity, 3.5f, -0f, float.NegativeInfinity, float.MinValue, float.MaxValue, float.PositiveInfinity,
            -float.Epsilon, float.NaN, 0f, -1e30f, float.NegativeInfinity, 1f, -2f, 7f, float.NegativeInfinity, -126f];
        var y = Apply(variant, Operation.FiniteOrZero, x);
        for (int i = 0; i < x.Length; i++)
        {
            float expected = float.IsNegativeInfinity(x[i]) ? 0f : x[i];
            Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(y[i]) || (float.IsNaN(x[i]) && float.IsNaN(y[i])),
                $"{variant} FiniteOrZero({x[i]:R}) = {y[i]:R}, expected {expected:R}");
        }
    }

    /// <summary>Applies the operation to <paramref name="x"/> one vector of the variant's width at a time.</summary>
    private static float[] Apply(CpuKernelVariant variant, Operation operation, float[] x, float cap = 1f) => variant switch
    {
        CpuKernelVariant.Vector512 => Apply<Vector512Ops, Vector512<float>>(operation, x, cap),
        CpuKernelVariant.Vector256 => Apply<Vector256Ops, Vector256<float>>(operation, x, cap),
        CpuKernelVariant.Vector128 => Apply<Vector128Ops, Vector128<float>>(operation, x, cap),
        _ => Apply<ScalarOps, float>(operation, x, cap),
    };

    private static float[] Apply<TOps, TVec>(Operation operation, float[] x, float cap)
        where TOps : ISimd<TVec>
        where TVec : unmanaged
    {
        // Pad to whole vectors with a harmless value; the padding's results are dropped.
        int width = TOps.Width;
        var padded = new float[(x.Length + width - 1) / width * width];
        Array.Fill(padded, -1f);
        x.CopyTo(padded, 0);
        var y = new float[padded.Length];
        var capVector = TOps.Broadcast(cap);
        var inverseCap = TOps.Broadcast(1f / cap);
        fixed (float* source = padded)
        fixed (float* destination = y)
        {
            for (int i = 0; i < padded.Length; i += width)
            {
                var v = TOps.Load(source + i);
                TOps.Store(destination + i, operation switch
                {
                    Operation.Exp2 => TOps.Exp2(v),
                    Operation.SoftCap => TOps.SoftCap(v, capVector, inverseCap),
                    _ => TOps.FiniteOrZero(v),
                });
            }
        }

        return y[..x.Length];
    }
}
