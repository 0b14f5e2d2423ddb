using Attention.Native.Cpu.Simd;
using Attention.Native.Validation;

namespace Attention.Native.Cpu.Additive;

/// <summary>
/// The backward of <see cref="AdditiveAttentionKernel{TOps, TVec}"/>: given the forward's projections
/// <c>q'</c>, <c>k'</c>, its probabilities <c>P</c> and output <c>O</c>, and <c>dO</c>, per query row <c>i</c>:
/// <c>dValue_j += p_ij·dO_i</c>, <c>ds_ij = p_ij·(dO_i·value_j − dO_i·O_i)</c>, and with <c>t = tanh(q'_i + k'_j)</c>
/// (recomputed, not stored: it is <c>Tq·Tk·U</c>) <c>dv += ds_ij·t</c>, <c>g = ds_ij·v∘(1 − t²)</c>,
/// <c>dq'_i += g</c>, <c>dk'_j += g</c>. The <c>U</c>-long work of each (i, j) pair is vectorised along the units, as
/// the forward's score is. Rows are spread over workers; the key side (<c>dk'</c>, <c>dValue</c>, <c>dv</c>) is summed
/// per worker and the workers' sums are added at the end, so no two threads write one element.
/// </summary>
internal static unsafe class AdditiveAttentionBackwardKernel<TOps, TVec>
    where TOps : ISimd<TVec>
    where TVec : unmanaged
{
    /// <summary>Writes <paramref name="queryGrad"/> (dq', <c>[B·Tq, U]</c>), <paramref name="keyGrad"/> (dk',
    /// <c>[B·Tk, U]</c>), <paramref name="scoreVectorGrad"/> (<c>[U]</c>) and <paramref name="valueGrad"/>
    /// (<c>[B·Tk, Dv]</c>).</summary>
    public static void Run(
        in AdditiveAttentionProblem problem, float* queries, float* keys, float* scoreVector, float* values, float* probabilities,
        float* output, float* outputGrad, float* queryGrad, float* keyGrad, float* scoreVectorGrad, float* valueGrad, int threads)
    {
        var p = problem;
        nint q = (nint)queries, k = (nint)keys, v = (nint)scoreVector, val = (nint)values, probs = (nint)probabilities;
        nint o = (nint)output, dO = (nint)outputGrad, dq = (nint)queryGrad;
        int rows = p.Batch * p.QueryLength;
        int workers = Math.Clamp(threads <= 0 ? Environment.ProcessorCount : threads, 1, rows);
        long keyUnits = (long)p.Batch * p.KeyLength * p.Units, keyValues = (long)p.Batch * p.KeyLength * p.ValueDim;
        var sums = new float[workers][];
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, worker =>
        {
            // This worker's dk' | dValue | dv.
            var local = sums[worker] = new float[keyUnits + keyValues + p.Units];
            var ds = new float[p.KeyLength];
            var rowGrad = new float[p.Units];
            fixed (float* l = local)
            fixed (float* d = ds)
            fixed (float* g = rowGrad)
            {
                var grads = new Grads(l, l + keyUnits, l + keyUnits + keyValues, d, g);
                for (int row = worker; row < rows; row += workers)
                {
                    Row(p, row, (float*)q, (float*)k, (float*)v, (float*)val, (float*)probs, (float*)o, (float*)dO, (float*)dq, grads);
                }
            }
        });

        var dk = new Span<float>(keyGrad, checked((int)keyUnits));
        var dValue = new Span<float>(valueGrad, checked((int)keyValues));
        var dv = new Span<float>(scoreVectorGrad, p.Units);
        dk.Clear();
        dValue.Clear();
        dv.Clear();
        foreach (var local in sums)
        {
            Add(local.AsSpan(0, (int)keyUnits), dk);
            Add(local.AsSpan((int)keyUnits, (int)keyValues), dValue);
            Add(local.AsSpan((int)(keyUnits + keyValues)), dv);
        }
    }

    private static void Row(
        in AdditiveAttentionProblem p, int row, float* queries, float* keys, float* scoreVector, float* values, float* probabilities,
        float* output, float* outputGrad, float* queryGrad, in Grads grads)
    {
        int b = row / p.QueryLength;
        int units = p.Units, dim = p.ValueDim;
        float* probs = probabilities + ((long)row * p.KeyLength);
        float* dO = outputGrad + ((long)row * dim);
        float rowDot = Dot(dO, output + ((long)row * dim), dim);
        long firstKey = (long)b * p.KeyLength;
        for (int j = 0; j < p.KeyLength; j++)
        {
            float weight = probs[j];
            grads.Ds[j] = 0;
            if (weight != 0)
            {
                // Masked keys have weight 0: no gradient flows to or through them.
                Axpy<TOps, TVec>.Run(weight, dO, grads.ValueGrad + ((firstKey + j) * dim), dim);
                grads.Ds[j] = weight * (Dot(dO, values + ((firstKey + j) * dim), dim) - rowDot);
            }
        }

        float* query = queries + ((long)row * units);
        var rowGrad = new Span<float>(grads.Row, units);
        rowGrad.Clear();
        for (int j = 0; j < p.KeyLength; j++)
        {
            float ds = grads.Ds[j];
            if (ds != 0)
            {
                TanhTerms(ds, query, keys + ((firstKey + j) * units), scoreVector, grads.ScoreVectorGrad, grads.Row,
                    grads.KeyGrad + ((firstKey + j) * units), units);
            }
        }

        rowGrad.CopyTo(new Span<float>(queryGrad + ((long)row * units), units));
    }

    /// <summary><c>t = tanh(q + k)</c>; <c>dv += ds·t</c>; <c>g = ds·v∘(1 − t²)</c> into both <c>dq</c> and <c>dk</c>.</summary>
    private static void TanhTerms(float ds, float* q, float* k, float* v, float* dv, float* dq, float* dk, int units)
    {
        var vds = TOps.Broadcast(ds);
        var one = TOps.Broadcast(1);
        int w = TOps.Width;
        int u = 0;
        for (; u <= units - w; u += w)
        {
            var t = TOps.Tanh(TOps.Add(TOps.Load(q + u), TOps.Load(k + u)));
            TOps.Store(dv + u, TOps.MultiplyAdd(vds, t, TOps.Load(dv + u)));
            var g = TOps.Multiply(TOps.Multiply(vds, TOps.Load(v + u)), TOps.Subtract(one, TOps.Multiply(t, t)));
            TOps.Store(dq + u, TOps.Add(TOps.Load(dq + u), g));
            TOps.Store(dk + u, TOps.Add(TOps.Load(dk + u), g));
        }

        for (; u < units; u++)
        {
            float t = ScalarOps.Tanh(q[u] + k[u]);
            dv[u] = MathF.FusedMultiplyAdd(ds, t, dv[u]);
            float g = ds * v[u] * (1 - (t * t));
            dq[u] += g;
            dk[u] += g;
        }
    }

    private static float Dot(float* x, float* y, int n)
    {
        var sum = TOps.Zero;
        int w = TOps.Width;
        int j = 0;
        for (; j <= n - w; j += w)
        {
            sum = TOps.MultiplyAdd(TOps.Load(x + j), TOps.Load(y + j), sum);
        }

        float result = TOps.Sum(sum);
        for (; j < n; j++)
        {
            result = MathF.FusedMultiplyAdd(x[j], y[j], result);
        }

        return result;
    }

    private static void Add(ReadOnlySpan<float> source, Span<float> destination)
    {
        fixed (float* s = source)
        fixed (float* d = destination)
        {
            Axpy<TOps, TVec>.Run(1, s, d, source.Length);
        }
    }

    /// <summary>A worker's accumulators and row scratch.</summary>
    private readonly struct Grads(float* keyGrad, float* valueGrad, float* scoreVectorGrad, float* ds, float* row)
    {
        public float* KeyGrad => keyGrad;

        public float* ValueGrad => valueGrad;

        public float* ScoreVectorGrad => scoreVectorGrad;

        public float* Ds => ds;

        public float* Row => row;
    }
}
