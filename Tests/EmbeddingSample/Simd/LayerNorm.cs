using System.Numerics;
using System.Runtime.InteropServices;

namespace EmbeddingSample.Simd;

/// <summary>
/// BERT's layer norm over one row, in float with <see cref="Vector{T}"/> lanes: <c>y = (s − mean(s)) / √(var(s) + ε) · γ
/// + β</c>, with the residual sum and the previous projection's bias fused in, <c>s = x + bias + r</c> (ONNX Runtime's
/// SkipLayerNormalization), either or both of them left out when empty.
/// </summary>
public static class LayerNorm
{
    /// <summary><c>y = LayerNorm(x + bias + residual)</c>; <paramref name="y"/> may be <paramref name="x"/> or <paramref name="residual"/>.</summary>
    /// <param name="x">The row.</param>
    /// <param name="bias">A bias added to it; empty for none.</param>
    /// <param name="residual">The row added to it; empty for none.</param>
    /// <param name="y">The result.</param>
    /// <param name="scale">γ.</param>
    /// <param name="shift">β.</param>
    /// <param name="epsilon">ε.</param>
    /// <exception cref="ArgumentException">The spans differ in length, or the row is empty.</exception>
    public static void Apply(
        ReadOnlySpan<float> x, ReadOnlySpan<float> bias, ReadOnlySpan<float> residual, Span<float> y, ReadOnlySpan<float> scale,
        ReadOnlySpan<float> shift, float epsilon)
    {
        int n = x.Length;
        if (n == 0 || y.Length != n || scale.Length != n || shift.Length != n || (!residual.IsEmpty && residual.Length != n)
            || (!bias.IsEmpty && bias.Length != n))
        {
            throw new ArgumentException($"LayerNorm: x has {x.Length} values, bias {bias.Length}, residual {residual.Length}, y {y.Length}, scale {scale.Length}, shift {shift.Length}; expected one non-empty length (bias and residual may be empty).", nameof(x));
        }

        // s = x + bias + r into y first: y may alias x or r, and the second pass reads s only.
        var vy = MemoryMarshal.Cast<float, Vector<float>>(y);
        int tail = vy.Length * Vector<float>.Count;
        var sum = Vector<float>.Zero;
        float total = 0;
        Sum(x, bias, residual, y);

        for (int i = 0; i < vy.Length; i++)
        {
            sum += vy[i];
        }

        for (int i = tail; i < n; i++)
        {
            total += y[i];
        }

        float mean = (Vector.Sum(sum) + total) / n;
        var vmean = new Vector<float>(mean);
        var squares = Vector<float>.Zero;
        float squareTail = 0;
        for (int i = 0; i < vy.Length; i++)
        {
            var d = vy[i] - vmean;
            squares += d * d;
        }

        for (int i = tail; i < n; i++)
        {
            float d = y[i] - mean;
            squareTail += d * d;
        }

        float inverse = 1f / MathF.Sqrt(((Vector.Sum(squares) + squareTail) / n) + epsilon);
        var vinverse = new Vector<float>(inverse);
        var vscale = MemoryMarshal.Cast<float, Vector<float>>(scale);
        var vshift = MemoryMarshal.Cast<float, Vector<float>>(shift);
        for (int i = 0; i < vy.Length; i++)
        {
            vy[i] = ((vy[i] - vmean) * vinverse * vscale[i]) + vshift[i];
        }

        for (int i = tail; i < n; i++)
        {
            y[i] = ((y[i] - mean) * inverse * scale[i]) + shift[i];
        }
    }

    /// <summary><c>y = x + bias + residual</c>, the empty ones left out.</summary>
    private static void Sum(ReadOnlySpan<float> x, ReadOnlySpan<float> bias, ReadOnlySpan<float> residual, Span<float> y)
    {
        if (residual.IsEmpty && bias.IsEmpty)
        {
            x.CopyTo(y);
            return;
        }

        var vx = MemoryMarshal.Cast<float, Vector<float>>(x);
        var vy = MemoryMarshal.Cast<float, Vector<float>>(y);
        var vb = MemoryMarshal.Cast<float, Vector<float>>(bias);
        var vr = MemoryMarshal.Cast<float, Vector<float>>(residual);
        int tail = vy.Length * Vector<float>.Count;
        for (int i = 0; i < vy.Length; i++)
        {
            vy[i] = vx[i] + (bias.IsEmpty ? Vector<float>.Zero : vb[i]) + (residual.IsEmpty ? Vector<float>.Zero : vr[i]);
        }

        for (int i = tail; i < x.Length; i++)
        {
            y[i] = x[i] + (bias.IsEmpty ? 0 : bias[i]) + (residual.IsEmpty ? 0 : residual[i]);
        }
    }
}
