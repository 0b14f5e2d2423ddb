using Attention.Native.Layers;

namespace Attention.Native.Tests.Layers;

/// <summary>
/// The whole multi-head attention layer in float64, written straight from the definitions (PyTorch layout
/// weights, <c>y = x·Wᵀ + b</c>; per head softmax of scaled scores under the masks; output projection): the oracle
/// the layer is tested against on every backend. Masks are read from <see cref="LayerMasks"/> one element at a time;
/// optional attention sinks join each row's denominator, and optional projected keys and values (a quantised cache's
/// rows dequantised, <c>[B·Lk, Hkv·D]</c>) stand in for the projections of key and value.
/// </summary>
public static class LayerReference
{
    public sealed record Result(double[] Output, double[] Probabilities);

    public static Result Compute(
        MultiHeadAttentionOptions options, PyTorchAttentionWeights w, int batch, float[] query, float[] key, float[] value,
        LayerMasks? masks, float[]? sinks = null, double[]? projectedKey = null, double[]? projectedValue = null)
    {
        int e = options.ModelDim, h = options.NumHeads, hkv = options.NumKeyValueHeads ?? h;
        int dk = options.KeyDim ?? e / h, dv = options.ValueDim ?? dk;
        int kdim = options.KeyInputDim ?? e, vdim = options.ValueInputDim ?? e;
        int lq = query.Length / (batch * e), lk = key.Length / (batch * kdim);
        double scale = options.Scale ?? 1.0 / Math.Sqrt(dk);
        bool bias = options.UseBias;
        var q = Linear(query, batch * lq, e, w.QProjWeight, bias ? w.InProjBias.AsSpan(0, h * dk).ToArray() : null, h * dk);
        var k = projectedKey ?? Linear(key, batch * lk, kdim, w.KProjWeight, bias ? w.InProjBias.AsSpan(h * dk, hkv * dk).ToArray() : null, hkv * dk);
        var v = projectedValue ?? Linear(value, batch * lk, vdim, w.VProjWeight, bias ? w.InProjBias.AsSpan((h + hkv) * dk, hkv * dv).ToArray() : null, hkv * dv);
        var context = new double[batch * lq * h * dv];
        var probabilities = new double[(long)batch * h * lq * lk];
        var scores = new double[lk];
        for (int b = 0; b < batch; b++)
        {
            for (int head = 0; head < h; head++)
            {
                int g = head / (h / hkv);
                for (int i = 0; i < lq; i++)
                {
                    double max = double.NegativeInfinity;
                    for (int j = 0; j < lk; j++)
                    {
                        double s = 0;
                        for (int d = 0; d < dk; d++)
                        {
                            s += q[(((b * lq) + i) * h * dk) + (head * dk) + d] * k[(((b * lk) + j) * hkv * dk) + (g * dk) + d];
                        }

                        s = (s * scale) + Bias(masks, b, head, i, j, batch, h, lq, lk);
                        scores[j] = Allowed(masks, b, head, i, j, batch, h, lq, lk) ? s : double.NegativeInfinity;
                        max = Math.Max(max, scores[j]);
                    }

                    if (double.IsNegativeInfinity(max))
                    {
                        continue; // a row that sees no key: output 0, weights 0
                    }

                    // A sink adds exp(sink) to the denominator and no value row.
                    double sink = sinks is null ? double.NegativeInfinity : sinks[head];
                    max = Math.Max(max, sink);
                    double sum = Math.Exp(sink - max);
                    for (int j = 0; j < lk; j++)
                    {
                        scores[j] = Math.Exp(scores[j] - max);
                        sum += scores[j];
                    }

                    for (int j = 0; j < lk; j++)
                    {
                        double p = scores[j] / sum;
                        probabilities[((((long)b * h) + head) * lq + i) * lk + j] = p;
                        for (int d = 0; d < dv; d++)
                        {
                            context[(((b * lq) + i) * h * dv) + (head * dv) + d] += p * v[(((b * lk) + j) * hkv * dv) + (g * dv) + d];
                        }
                    }
                }
            }
        }

        var output = Linear(context, batch * lq, h * dv, w.OutProjWeight, bias ? w.OutProjBias : null, e);
        return new(output, probabilities);
    }

    /// <summary>The mean over heads of <c>[B, H, Lq, Lk]</c> probabilities.</summary>
    public static double[] Averaged(double[] perHead, int batch, int heads)
    {
        int plane = perHead.Length / (batch * heads);
        var result = new double[batch * plane];
        for (int b = 0; b < batch; b++)
        {
            for (int h = 0; h < heads; h++)
            {
                for (int e = 0; e < plane; e++)
                {
                    result[(b * plane) + e] += perHead[(((b * heads) + h) * plane) + e] / heads;
                }
            }
        }

        return result;
    }

    private static double[] Linear<T>(T[] x, int rows, int inFeatures, float[] weight, float[]? bias, int outFeatures)
        where T : unmanaged
    {
        var y = new double[rows * outFeatures];
        for (int r = 0; r < rows; r++)
        {
            for (int o = 0; o < outFeatures; o++)
            {
                double s = bias is null ? 0 : bias[o];
                for (int c = 0; c < inFeatures; c++)
                {
                    s += Convert.ToDouble(x[(r * inFeatures) + c]) * weight[(o * inFeatures) + c];
                }

                y[(r * outFeatures) + o] = s;
            }
        }

        return y;
    }

    private static bool Allowed(LayerMasks? m, int b, int h, int i, int j, int batch, int heads, int lq, int lk)
    {
        if (m is null)
        {
            return true;
        }

        if (!m.KeyPadding.IsEmpty && !m.KeyPadding.Span[(b * lk) + j])
        {
            return false;
        }

        int length = m.KeyLengths.IsEmpty ? lk : m.KeyLengths.Span[b];
        if (j >= length)
        {
            return false;
        }

        if (m.Causal == CausalMask.TopLeft && j > i)
        {
            return false;
        }

        if (m.Causal == CausalMask.BottomRight && j > i + length - lq)
        {
            return false;
        }

        return m.AttentionMask.IsEmpty || m.AttentionMask.Span[Index(m.AttentionMask.Length, b, h, i, j, batch, heads, lq, lk)];
    }

    private static double Bias(LayerMasks? m, int b, int h, int i, int j, int batch, int heads, int lq, int lk) =>
        m is null || m.AttentionBias.IsEmpty ? 0 : m.AttentionBias.Span[Index(m.AttentionBias.Length, b, h, i, j, batch, heads, lq, lk)];

    /// <summary>Index into a <c>[Lq, Lk]</c>, <c>[B, Lq, Lk]</c> or <c>[B, H, Lq, Lk]</c> mask, told apart by length.</summary>
    private static int Index(int length, int b, int h, int i, int j, int batch, int heads, int lq, int lk)
    {
        int plane = lq * lk, cell = (i * lk) + j;
        return length == plane ? cell : length == batch * plane ? (b * plane) + cell : (((b * heads) + h) * plane) + cell;
    }
}
