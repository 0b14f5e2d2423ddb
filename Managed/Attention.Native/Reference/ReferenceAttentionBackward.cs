namespace Attention.Native.Reference;

/// <summary>
/// Naive float64 gradients of attention, straight from the definitions: with <c>P</c> the forward's weights and
/// <c>O</c> its output (both from <see cref="ReferenceAttention"/>), <c>dV = Pᵀ·dO</c>, <c>dP = dO·Vᵀ</c>,
/// <c>D = rowsum(dO∘O)</c>, <c>dS = P∘(dP − D)</c> (the gradient of the biased score, hence of the bias), then through
/// the soft cap (<c>1 − tanh²</c>) and the scale, <c>dQ = dS·K</c>, <c>dK = dSᵀ·Q</c>; with sinks,
/// <c>dSink = −Σ exp(sink − lse)·D</c> over the head's rows. Every row's whole <c>P</c>
/// is held; it is the oracle the backward kernels are tested against and slow on purpose.
/// </summary>
public static class ReferenceAttentionBackward
{
    /// <summary>Computes the gradients in float64.</summary>
    /// <typeparam name="T">Operand element type (float, Half or BFloat16), read as the backends read it.</typeparam>
    /// <param name="shape">The problem's sizes.</param>
    /// <param name="query">Q in the layout of <paramref name="options"/>.</param>
    /// <param name="key">K in the layout of <paramref name="options"/>.</param>
    /// <param name="value">V in the layout of <paramref name="options"/>.</param>
    /// <param name="outputGrad">dO with the output's strides (<see cref="AttentionOptions.OutputStrides"/> or the layout).</param>
    /// <param name="options">The options; null for the defaults.</param>
    /// <returns>dQ, dK, dV contiguous in <c>[B, H, L, …]</c> order, the bias gradient in the bias's shape, and the
    /// sinks' gradient <c>[Hq]</c>.</returns>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not an operand type.</exception>
    public static ReferenceGradients Compute<T>(
        AttentionShape shape,
        ReadOnlySpan<T> query,
        ReadOnlySpan<T> key,
        ReadOnlySpan<T> value,
        ReadOnlySpan<T> outputGrad,
        AttentionOptions? options = null)
        where T : unmanaged
    {
        options ??= AttentionOptions.Default;
        var forward = ReferenceAttention.Compute(shape, query, key, value, options);
        var layout = options.Layout;
        var qs = options.QueryStrides ?? TensorStrides.Contiguous(layout, shape.QueryHeads, shape.QueryLength, shape.HeadDim);
        var ks = options.KeyStrides ?? TensorStrides.Contiguous(layout, shape.KeyValueHeads, shape.KeyLength, shape.HeadDim);
        var vs = options.ValueStrides ?? TensorStrides.Contiguous(layout, shape.KeyValueHeads, shape.KeyLength, shape.ValueHeadDim);
        var os = options.OutputStrides ?? TensorStrides.Contiguous(layout, shape.QueryHeads, shape.QueryLength, shape.ValueHeadDim);
        double scale = options.Scale ?? 1.0 / Math.Sqrt(shape.HeadDim);
        int lq = shape.QueryLength;
        int lk = shape.KeyLength;
        int d = shape.HeadDim;
        int dv = shape.ValueHeadDim;
        var dq = new double[shape.QueryElementCount];
        var dk = new double[shape.KeyElementCount];
        var dvGrad = new double[shape.ValueElementCount];
        var bias = options.Bias;
        var dBias = new double[bias is null ? 0 : (long)bias.Batch * bias.Heads * lq * lk];
        var rowGrad = new double[dv];
        var dSinks = new double[options.Sinks.Length];
        for (int b = 0; b < shape.Batch; b++)
        {
            for (int h = 0; h < shape.QueryHeads; h++)
            {
                int kvh = h / shape.GroupSize;
                for (int i = 0; i < lq; i++)
                {
                    long row = (((long)b * shape.QueryHeads) + h) * lq + i;
                    if (double.IsNegativeInfinity(forward.LogSumExp[(int)row]))
                    {
                        continue; // a row that sees no key has a constant (zero) output
                    }

                    long o0 = Offset(os, b, h, i);
                    double rowDot = 0; // D = rowsum(dO∘O)
                    for (int c = 0; c < dv; c++)
                    {
                        rowGrad[c] = ElementType.ToSingle(outputGrad[(int)(o0 + c)]);
                        rowDot += rowGrad[c] * forward.Output[(int)((row * dv) + c)];
                    }

                    if (dSinks.Length > 0)
                    {
                        // The sink's share of the row, exp(sink − lse), scales every P of the row down.
                        dSinks[h] -= Math.Exp(options.Sinks.Span[h] - forward.LogSumExp[(int)row]) * rowDot;
                    }

                    long q0 = Offset(qs, b, h, i);
                    for (int j = 0; j < lk; j++)
                    {
                        double p = forward.Probabilities[(int)((row * lk) + j)];
                        if (p == 0)
                        {
                            continue; // masked (or underflowed): no gradient flows through this score
                        }

                        long k0 = Offset(ks, b, kvh, j);
                        long v0 = Offset(vs, b, kvh, j);
                        long kvRow = (((long)b * shape.KeyValueHeads) + kvh) * lk + j;
                        double dp = 0;
                        for (int c = 0; c < dv; c++)
                        {
                            dvGrad[(kvRow * dv) + c] += p * rowGrad[c];
                            dp += rowGrad[c] * ElementType.ToSingle(value[(int)(v0 + c)]);
                        }

                        double ds = p * (dp - rowDot);
                        if (bias is not null)
                        {
                            dBias[ScoreIndex(bias, b, h, i, j, lq, lk)] += ds;
                        }

                        if (options.Softcap > 0)
                        {
                            double dot = 0;
                            for (int x = 0; x < d; x++)
                            {
                                dot += (double)ElementType.ToSingle(query[(int)(q0 + x)]) * ElementType.ToSingle(key[(int)(k0 + x)]);
                            }

                            double t = Math.Tanh(dot * scale / options.Softcap);
                            ds *= 1 - (t * t);
                        }

                        ds *= scale;
                        for (int x = 0; x < d; x++)
                        {
                            dq[(row * d) + x] += ds * ElementType.ToSingle(key[(int)(k0 + x)]);
                            dk[(kvRow * d) + x] += ds * ElementType.ToSingle(query[(int)(q0 + x)]);
                        }
                    }
                }
            }
        }

        return new ReferenceGradients(shape, dq, dk, dvGrad, dBias, dSinks);
    }

    private static long Offset(TensorStrides strides, int b, int h, int s) =>
        (b * strides.Batch) + (h * strides.Head) + (s * strides.Sequence);

    private static long ScoreIndex(AttentionBias bias, int b, int h, int i, int j, int lq, int lk) =>
        (((((long)(bias.Batch == 1 ? 0 : b) * bias.Heads) + (bias.Heads == 1 ? 0 : h)) * lq) + i) * lk + j;
}
