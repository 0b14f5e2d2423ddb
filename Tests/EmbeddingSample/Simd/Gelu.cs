using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EmbeddingSample.Simd;

/// <summary>
/// The exact GELU BERT uses, <c>x·½·(1 + erf(x/√2))</c>, in place with <see cref="Vector{T}"/> lanes. erf is Eigen's
/// single-precision rational approximation (odd degree-13 numerator over even degree-8 denominator on x clamped to
/// [−4, 4], where erf is ±1 in float): 6.5e-8 from the exact erf in exact arithmetic, a few float ulps of 1 (up to
/// 2.5e-7) evaluated in float. GELU's error is that times |x|/2 for x &lt; 0, where 1 + erf cancels, as in every float
/// GELU.
/// </summary>
public static class Gelu
{
    private const float InverseSqrt2 = 0.70710678118654752f;

    /// <summary>Replaces every value of <paramref name="values"/> by its GELU.</summary>
    /// <param name="values">The values.</param>
    public static void Apply(Span<float> values) => Apply(values, default);

    /// <summary>Replaces every value <c>x</c> of <paramref name="row"/> by <c>GELU(x + bias)</c> (the projection's bias fused in).</summary>
    /// <param name="row">The values.</param>
    /// <param name="bias">One value per element of <paramref name="row"/>; empty for none.</param>
    /// <exception cref="ArgumentException"><paramref name="bias"/> is neither empty nor as long as <paramref name="row"/>.</exception>
    public static void Apply(Span<float> row, ReadOnlySpan<float> bias)
    {
        if (!bias.IsEmpty && bias.Length != row.Length)
        {
            throw new ArgumentException($"bias has {bias.Length} values; the row {row.Length}.", nameof(bias));
        }

        var lanes = MemoryMarshal.Cast<float, Vector<float>>(row);
        var biasLanes = MemoryMarshal.Cast<float, Vector<float>>(bias);
        var half = new Vector<float>(0.5f);
        var inverseSqrt2 = new Vector<float>(InverseSqrt2);
        for (int i = 0; i < lanes.Length; i++)
        {
            var x = bias.IsEmpty ? lanes[i] : lanes[i] + biasLanes[i];
            lanes[i] = x * half * (Vector<float>.One + Erf(x * inverseSqrt2));
        }

        for (int i = lanes.Length * Vector<float>.Count; i < row.Length; i++)
        {
            float x = row[i] + (bias.IsEmpty ? 0 : bias[i]);
            row[i] = x * 0.5f * (1f + Erf(new Vector<float>(x * InverseSqrt2))[0]);
        }
    }

    /// <summary>erf of each lane (the approximation above).</summary>
    /// <param name="x">The arguments.</param>
    /// <returns>erf(x).</returns>
    /// <remarks>Inlined into the loops that call it: as a call, its vectors pass through the stack and each step waits on
    /// the one before it (GELU of 128 × 1536 values: 0.32 ms called, 0.16 ms inlined, on one Zen 3 thread).</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Erf(Vector<float> x)
    {
        x = Vector.Min(Vector.Max(x, new Vector<float>(-4f)), new Vector<float>(4f));
        var x2 = x * x;
        var p = Vector.FusedMultiplyAdd(x2, new Vector<float>(-2.72614225801306e-10f), new Vector<float>(2.77068142495902e-08f));
        p = Vector.FusedMultiplyAdd(x2, p, new Vector<float>(-2.10102402082508e-06f));
        p = Vector.FusedMultiplyAdd(x2, p, new Vector<float>(-5.69250639462346e-05f));
        p = Vector.FusedMultiplyAdd(x2, p, new Vector<float>(-7.34990630326855e-04f));
        p = Vector.FusedMultiplyAdd(x2, p, new Vector<float>(-2.95459980854025e-03f));
        p = Vector.FusedMultiplyAdd(x2, p, new Vector<float>(-1.60960333262415e-02f));
        var q = Vector.FusedMultiplyAdd(x2, new Vector<float>(-1.45660718464996e-05f), new Vector<float>(-2.13374055278905e-04f));
        q = Vector.FusedMultiplyAdd(x2, q, new Vector<float>(-1.68282697438203e-03f));
        q = Vector.FusedMultiplyAdd(x2, q, new Vector<float>(-7.37332916720468e-03f));
        q = Vector.FusedMultiplyAdd(x2, q, new Vector<float>(-1.42647390514189e-02f));
        return x * p / q;
    }
}
