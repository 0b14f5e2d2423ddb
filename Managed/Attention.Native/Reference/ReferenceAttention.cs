namespace Attention.Native.Reference;

/// <summary>
/// Naive float64 attention written straight from the definitions in <see cref="AttentionOptions"/>: every score,
/// every mask rule spelled out per (query, key), the sink as one more denominator term, no tiling and no online
/// softmax. It is the oracle both backends are
/// tested against and what the perf tool measures errors with; it is O(Lq·Lk) per head and slow on purpose.
/// </summary>
public static class ReferenceAttention
{
    /// <summary>Computes attention in float64.</summary>
    /// <typeparam name="T">Operand element type (float, Half or BFloat16), read as the backends read it.</typeparam>
    /// <param name="shape">The problem's sizes.</param>
    /// <param name="query">Q in the layout of <paramref name="options"/>.</param>
    /// <param name="key">K in the layout of <paramref name="options"/>.</param>
    /// <param name="value">V in the layout of <paramref name="options"/>.</param>
    /// <param name="options">The options; null for the defaults.</param>
    /// <returns>Output, log-sum-exp and probabilities, contiguous in <c>[B, Hq, Lq, …]</c> order.</returns>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not an operand type.</exception>
    public static ReferenceResult Compute<T>(
        AttentionShape shape, ReadOnlySpan<T> query, ReadOnlySpan<T> key, ReadOnlySpan<T> value, AttentionOptions? options = null)
        where T : unmanaged
    {
        ElementType.ThrowIfNotOperand<T>();
        options ??= AttentionOptions.Default;
        var layout = options.Layout;
        var qs = options.QueryStrides ?? TensorStrides.Contiguous(layout, shape.QueryHeads, shape.QueryLength, shape.HeadDim);
        var ks = options.KeyStrides ?? TensorStrides.Contiguous(layout, shape.KeyValueHeads, shape.KeyLength, shape.HeadDim);
        var vs = options.ValueStrides ?? TensorStrides.Contiguous(layout, shape.KeyValueHeads, shape.KeyLength, shape.ValueHeadDim);
        double scale = options.Scale ?? 1.0 / Math.Sqrt(shape.HeadDim);
        bool[]? mask = options.Mask is null ? null : options.Mask.Tensor?.ToArray() ?? options.Mask.Memory.ToArray();
        float[]? bias = options.Bias is null ? null : options.Bias.Tensor?.ToArray() ?? options.Bias.Memory.ToArray();
        int lq = shape.QueryLength;
        int lk = shape.KeyLength;
        var output = new double[shape.OutputElementCount];
        var logSumExp = new double[shape.LogSumExpElementCount];
        var probabilities = new double[shape.ProbabilitiesElementCount];
        var scores = new double[lk];
        var visible = new bool[lk];
        for (int b = 0; b < shape.Batch; b++)
        {
            int length = options.KeyLengths.IsEmpty ? lk : options.KeyLengths.Span[b];
            for (int h = 0; h < shape.QueryHeads; h++)
            {
                int kvh = h / (shape.QueryHeads / shape.KeyValueHeads);
                for (int i = 0; i < lq; i++)
                {
                    long row = (((long)b * shape.QueryHeads) + h) * lq + i;
                    double max = double.NegativeInfinity;
                    for (int j = 0; j < lk; j++)
                    {
                        visible[j] = IsVisible(options, b, h, i, j, lq, lk, length, mask);
                        if (!visible[j])
                        {
                            continue;
                        }

                        double dot = 0;
                        for (int x = 0; x < shape.HeadDim; x++)
                        {
                            dot += (double)ElementType.ToSingle(query[(int)(Offset(qs, b, h, i) + x)])
                                * ElementType.ToSingle(key[(int)(Offset(ks, b, kvh, j) + x)]);
                        }

                        double s = dot * scale;
                        if (options.Softcap > 0)
                        {
                            s = options.Softcap * Math.Tanh(s / options.Softcap);
                        }

                        if (bias is not null)
                        {
                            s += bias[ScoreIndex(options.Bias!, b, h, i, j, lq, lk)];
                        }

                        scores[j] = s;
                        max = Math.Max(max, s);
                    }

                    // The sink joins the denominator as one more term exp(sink) with no value row.
                    double sink = options.Sinks.IsEmpty ? double.NegativeInfinity : options.Sinks.Span[h];
                    max = Math.Max(max, sink);
                    if (double.IsNegativeInfinity(max))
                    {
                        logSumExp[row] = double.NegativeInfinity;
                        continue;
                    }

                    double sum = Math.Exp(sink - max);
                    for (int j = 0; j < lk; j++)
                    {
                        if (visible[j])
                        {
                            scores[j] = Math.Exp(scores[j] - max);
                            sum += scores[j];
                        }
                    }

                    logSumExp[row] = max + Math.Log(sum);
                    for (int j = 0; j < lk; j++)
                    {
                        if (!visible[j])
                        {
                            continue;
                        }

                        double pj = scores[j] / sum;
                        probabilities[(row * lk) + j] = pj;
                        long v0 = Offset(vs, b, kvh, j);
                        for (int c = 0; c < shape.ValueHeadDim; c++)
                        {
                            output[(row * shape.ValueHeadDim) + c] += pj * ElementType.ToSingle(value[(int)(v0 + c)]);
                        }
                    }
                }
            }
        }

        return new ReferenceResult(shape, output, logSumExp, probabilities);
    }

    /// <summary>Whether query <paramref name="i"/> may see key <paramref name="j"/>, rule by rule.</summary>
    private static bool IsVisible(AttentionOptions options, int b, int h, int i, int j, int lq, int lk, int length, bool[]? mask)
    {
        if (j >= length)
        {
            return false;
        }

        long diagonal = (long)i + length - lq;
        bool causalOk = options.Causal switch
        {
            CausalMask.TopLeft => j <= i,
            CausalMask.BottomRight => j <= diagonal,
            _ => true,
        };
        if (!causalOk)
        {
            return false;
        }

        if (options.Window is { } window)
        {
            if (window.Left >= 0 && j < diagonal - window.Left)
            {
                return false;
            }

            if (window.Right >= 0 && j > diagonal + window.Right)
            {
                return false;
            }
        }

        return mask is null || mask[ScoreIndex(options.Mask!, b, h, i, j, lq, lk)];
    }

    private static long Offset(TensorStrides strides, int b, int h, int s) =>
        (b * strides.Batch) + (h * strides.Head) + (s * strides.Sequence);

    private static int ScoreIndex<TElement>(BroadcastScores<TElement> scores, int b, int h, int i, int j, int lq, int lk)
        where TElement : unmanaged =>
        (int)((((((long)(scores.Batch == 1 ? 0 : b) * scores.Heads) + (scores.Heads == 1 ? 0 : h)) * lq) + i) * lk + j);
}
