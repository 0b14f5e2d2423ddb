using System.Runtime.CompilerServices;
using Attention.Native.Cpu.Simd;
using Attention.Native.Validation;
using static Attention.Native.Cpu.Simd.ExpPolynomial;

namespace Attention.Native.Cpu;

/// <summary>
/// Everything applied to a block of raw scores before the softmax, in the API's order: soft cap, bias, boolean mask,
/// then the causal / window / key-length range. Scores are in base-2 units (already multiplied by log2 e), so the
/// cap and the bias are scaled by log2 e too: <c>log2e·cap·tanh(s/cap) = cap₂·tanh(s₂/cap₂)</c> with
/// <c>cap₂ = cap·log2e</c>.
/// </summary>
internal readonly unsafe struct ScoreModifiers<TOps, TVec>
    where TOps : ISimd<TVec>
    where TVec : unmanaged
{
    private readonly float cap;
    private readonly float inverseCap;
    private readonly float* bias;
    private readonly bool* mask;
    private readonly long keyLength;
    private readonly bool hasRange;
    private readonly int* rowLo;
    private readonly int* rowHi;

    /// <param name="p">The problem.</param>
    /// <param name="maskBase">The whole mask, or null.</param>
    /// <param name="biasBase">The whole bias, or null.</param>
    /// <param name="batch">Batch entry.</param>
    /// <param name="head">Query head.</param>
    /// <param name="rowLo">First visible key of each of the item's rows.</param>
    /// <param name="rowHi">One past the last visible key of each of the item's rows.</param>
    public ScoreModifiers(AttentionProblem p, bool* maskBase, float* biasBase, int batch, int head, int* rowLo, int* rowHi)
    {
        cap = p.Softcap * Log2E;
        inverseCap = p.Softcap > 0 ? 1f / cap : 0f;
        keyLength = p.KeyLength;
        bias = biasBase is null ? null
            : biasBase + (batch * p.MaskBatchStride(p.Bias!.Heads, p.Bias.Batch)) + (head * p.MaskHeadStride(p.Bias.Heads));
        mask = maskBase is null ? null
            : maskBase + (batch * p.MaskBatchStride(p.Mask!.Heads, p.Mask.Batch)) + (head * p.MaskHeadStride(p.Mask.Heads));
        hasRange = p.HasKeyRange;
        this.rowLo = rowLo;
        this.rowHi = rowHi;
    }

    /// <summary>Modifies the transposed scores <c>[keys][tileRows]</c> of one row tile in place.</summary>
    /// <param name="scores">The scores; row <c>r</c> of key <c>j</c> at <c>j·tileRows + r</c>.</param>
    /// <param name="keys">Number of keys.</param>
    /// <param name="firstKey">Index of the first key.</param>
    /// <param name="tileFirst">Index of the tile's first row within the work item.</param>
    /// <param name="tileCount">Rows of the tile that are real queries (the rest is padding).</param>
    /// <param name="itemFirstQuery">Query index of the work item's first row.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Apply(float* scores, int keys, int firstKey, int tileFirst, int tileCount, int itemFirstQuery)
    {
        int tileRows = 2 * TOps.Width;
        if (inverseCap != 0)
        {
            TVec capVector = TOps.Broadcast(cap);
            TVec inverse = TOps.Broadcast(inverseCap);
            for (int i = 0; i < keys * tileRows; i += TOps.Width)
            {
                TOps.Store(scores + i, TOps.SoftCap(TOps.Load(scores + i), capVector, inverse));
            }
        }

        long firstQuery = itemFirstQuery + tileFirst;
        if (bias is not null)
        {
            for (int r = 0; r < tileCount; r++)
            {
                float* row = bias + ((firstQuery + r) * keyLength) + firstKey;
                for (int j = 0; j < keys; j++)
                {
                    scores[(j * tileRows) + r] += row[j] * Log2E;
                }
            }
        }

        if (mask is not null)
        {
            for (int r = 0; r < tileCount; r++)
            {
                bool* row = mask + ((firstQuery + r) * keyLength) + firstKey;
                for (int j = 0; j < keys; j++)
                {
                    if (!row[j])
                    {
                        scores[(j * tileRows) + r] = float.NegativeInfinity;
                    }
                }
            }
        }

        // Rows' visible ranges only grow with the row index, so a block inside the last row's start and the first
        // row's end is visible to every row of the tile and needs no per-score test.
        if (hasRange && !(firstKey >= rowLo[tileFirst + tileCount - 1] && firstKey + keys <= rowHi[tileFirst]))
        {
            for (int r = 0; r < tileCount; r++)
            {
                int lo = rowLo[tileFirst + r] - firstKey;
                int hi = rowHi[tileFirst + r] - firstKey;
                for (int j = 0; j < keys; j++)
                {
                    if (j < lo || j >= hi)
                    {
                        scores[(j * tileRows) + r] = float.NegativeInfinity;
                    }
                }
            }
        }
    }
}
