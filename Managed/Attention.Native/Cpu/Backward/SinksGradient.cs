namespace Attention.Native.Cpu.Backward;

/// <summary>
/// The gradient of the sink logits. A sink joins row <c>i</c>'s softmax denominator only, so with
/// <c>p = exp(sink − lse)</c> its share of the row, every probability of the row moves by <c>−P·p</c> per unit of
/// sink, and <c>∂L/∂sink = −Σ_i p_i·Σ_j P_ij·dP_ij = −Σ_i p_i·D_i</c> with <c>D = rowsum(dO∘O)</c>, the backward's
/// row dots. A row that sees no key has O = 0, so D = 0 and it adds nothing.
/// </summary>
internal static unsafe class SinksGradient
{
    /// <summary>Writes <c>sinksGrad[h] = −Σ_b Σ_i exp(sink_h − lse_bhi)·D_bhi</c>, summed in float64 in a fixed order.</summary>
    /// <param name="p">The problem (with sinks).</param>
    /// <param name="logSumExp">The forward's log-sum-exp, <c>[B, Hq, Lq]</c>.</param>
    /// <param name="rowDots"><c>D</c>, <c>[B, Hq, Lq]</c>.</param>
    /// <param name="sinksGrad">Output, <c>[Hq]</c>.</param>
    public static void Write(Validation.AttentionProblem p, float* logSumExp, float* rowDots, float* sinksGrad)
    {
        for (int head = 0; head < p.QueryHeads; head++)
        {
            double sink = p.SinkOf(head);
            double sum = 0;
            for (int batch = 0; batch < p.Batch; batch++)
            {
                long row = (((long)batch * p.QueryHeads) + head) * p.QueryLength;
                for (int i = 0; i < p.QueryLength; i++)
                {
                    sum += Math.Exp(sink - logSumExp[row + i]) * rowDots[row + i];
                }
            }

            sinksGrad[head] = (float)-sum;
        }
    }
}
