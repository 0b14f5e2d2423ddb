using Attention.Native.Cpu.Simd;
using Attention.Native.Validation;

namespace Attention.Native.Cpu.Additive;

/// <summary>
/// Additive (Bahdanau) attention after the projections: for each query row <c>i</c>, scores
/// <c>s_j = vᵀ·tanh(q'_i + k'_j)</c> over the keys it may see, softmax, and <c>o_i = Σ_j p_j·value_j</c>.
/// The <c>tanh</c> sum over the hidden units dominates (<c>Tq·Tk·U</c>), so it is vectorised along the units;
/// rows are spread over threads. The scores of one row are materialised (Tk floats): unlike the dot-product kernel
/// there is no matrix product to tile. One copy per variant (<typeparamref name="TOps"/>; entry:
/// <see cref="CpuKernels.RunAdditive"/>).
/// </summary>
internal static unsafe class AdditiveAttentionKernel<TOps, TVec>
    where TOps : ISimd<TVec>
    where TVec : unmanaged
{
    public static void Run(
        in AdditiveAttentionProblem problem, float* queries, float* keys, float* scoreVector, float* values, float* output, float* probabilities, int threads)
    {
        var p = problem;
        nint q = (nint)queries, k = (nint)keys, v = (nint)scoreVector, val = (nint)values, o = (nint)output, probs = (nint)probabilities;
        int rows = p.Batch * p.QueryLength;
        int workers = Math.Clamp(threads <= 0 ? Environment.ProcessorCount : threads, 1, rows);
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, worker =>
        {
            var scores = new float[p.KeyLength];
            for (int row = worker; row < rows; row += workers)
            {
                Row(p, row, (float*)q, (float*)k, (float*)v, (float*)val, (float*)o, (float*)probs, scores);
            }
        });
    }

    private static void Row(in AdditiveAttentionProblem p, int row, float* queries, float* keys, float* scoreVector, float* values, float* output, float* probabilities, float[] scores)
    {
        int b = row / p.QueryLength, i = row % p.QueryLength;
        var masks = p.Masks;
        var (lo, hi) = masks.HasKeyRange ? masks.KeyRange(b, i) : (0, p.KeyLength);
        float* query = queries + ((long)row * p.Units);
        float* o = output + ((long)row * p.ValueDim);
        float* probs = probabilities == null ? null : probabilities + ((long)row * p.KeyLength);
        var mask = masks.Mask is { } maskScores ? maskScores.Memory.Span : default;
        var bias = masks.Bias is { } biasScores ? biasScores.Memory.Span : default;
        long maskRow = masks.Mask is { } m ? (masks.MaskBatchStride(m.Heads, m.Batch) * b) + ((long)i * p.KeyLength) : 0;
        long biasRow = masks.Bias is { } bb ? (masks.MaskBatchStride(bb.Heads, bb.Batch) * b) + ((long)i * p.KeyLength) : 0;
        float max = float.NegativeInfinity;
        for (int j = 0; j < p.KeyLength; j++)
        {
            bool allowed = j >= lo && j < hi && (mask.IsEmpty || mask[(int)(maskRow + j)]);
            float s = float.NegativeInfinity;
            if (allowed)
            {
                s = Score(query, keys + (((long)b * p.KeyLength) + j) * p.Units, scoreVector, p.Units);
                s += bias.IsEmpty ? 0 : bias[(int)(biasRow + j)];
            }

            scores[j] = s;
            max = MathF.Max(max, s);
        }

        new Span<float>(o, p.ValueDim).Clear();
        if (float.IsNegativeInfinity(max))
        {
            // A row that sees no key outputs 0 (and weights 0), never NaN.
            if (probs != null)
            {
                new Span<float>(probs, p.KeyLength).Clear();
            }

            return;
        }

        float sum = 0;
        for (int j = 0; j < p.KeyLength; j++)
        {
            float e = float.IsNegativeInfinity(scores[j]) ? 0 : MathF.Exp(scores[j] - max);
            scores[j] = e;
            sum += e;
        }

        float inverse = 1 / sum;
        for (int j = 0; j < p.KeyLength; j++)
        {
            float weight = scores[j] * inverse;
            if (probs != null)
            {
                probs[j] = weight;
            }

            if (weight != 0)
            {
                Axpy<TOps, TVec>.Run(weight, values + (((long)b * p.KeyLength) + j) * p.ValueDim, o, p.ValueDim);
            }
        }
    }

    /// <summary><c>Σ_u v_u·tanh(q_u + k_u)</c>.</summary>
    private static float Score(float* q, float* k, float* v, int units)
    {
        var sum = TOps.Zero;
        int w = TOps.Width;
        int u = 0;
        for (; u <= units - w; u += w)
        {
            var x = TOps.Add(TOps.Load(q + u), TOps.Load(k + u));
            sum = TOps.MultiplyAdd(TOps.Load(v + u), TOps.Tanh(x), sum);
        }

        float score = TOps.Sum(sum);
        for (; u < units; u++)
        {
            score = MathF.FusedMultiplyAdd(v[u], ScalarOps.Tanh(q[u] + k[u]), score);
        }

        return score;
    }
}
