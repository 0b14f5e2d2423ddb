using System.Runtime.CompilerServices;
using Attention.Native.Cpu.Simd;
using Attention.Native.Validation;
using static Attention.Native.Cpu.Simd.ExpPolynomial;

namespace Attention.Native.Cpu.Decode;

/// <summary>
/// <see cref="ScoreModifiers{TOps, TVec}"/> for the decode kernel's layout: one query row's scores over a short key
/// block, in base-2 units. Same order: soft cap, bias, mask, causal/window/length range.
/// </summary>
internal readonly unsafe struct DecodeScoreModifiers
{
    private readonly AttentionProblem problem;
    private readonly bool* mask;
    private readonly float* bias;
    private readonly int batch;
    private readonly int kvHead;
    private readonly float cap;
    private readonly float inverseCap;

    public DecodeScoreModifiers(AttentionProblem p, bool* mask, float* bias, int batch, int kvHead)
    {
        problem = p;
        this.mask = mask;
        this.bias = bias;
        this.batch = batch;
        this.kvHead = kvHead;
        cap = p.Softcap * Log2E;
        inverseCap = p.Softcap > 0 ? 1f / cap : 0f;
    }

    /// <summary>Modifies <paramref name="keys"/> scores of decode row <paramref name="row"/> in place.</summary>
    /// <param name="scores">The row's scores for the block.</param>
    /// <param name="keys">Number of keys in the block.</param>
    /// <param name="firstKey">Index of the block's first key.</param>
    /// <param name="row">Decode row: query <c>row / group</c> of head <c>kvHead·group + row % group</c>.</param>
    /// <param name="lo">First key the row may see.</param>
    /// <param name="hi">One past the last key the row may see.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Apply(float* scores, int keys, int firstKey, int row, int lo, int hi)
    {
        // The common decode block (no cap, bias or mask; every key in range) has nothing to do. AggressiveOptimization:
        // called from the optimised kernel, this method otherwise ran its tier-0 code for most of a benchmark.
        if (inverseCap == 0 && bias is null && mask is null && firstKey >= lo && firstKey + keys <= hi)
        {
            return;
        }

        var p = problem;
        int query = row / p.GroupSize;
        int head = (kvHead * p.GroupSize) + (row % p.GroupSize);
        if (inverseCap != 0)
        {
            for (int j = 0; j < keys; j++)
            {
                scores[j] = ScalarOps.SoftCap(scores[j], cap, inverseCap);
            }
        }

        if (bias is not null)
        {
            float* values = bias + (batch * p.MaskBatchStride(p.Bias!.Heads, p.Bias.Batch))
                + (head * p.MaskHeadStride(p.Bias.Heads)) + ((long)query * p.KeyLength) + firstKey;
            for (int j = 0; j < keys; j++)
            {
                scores[j] += values[j] * Log2E;
            }
        }

        if (mask is not null)
        {
            bool* values = mask + (batch * p.MaskBatchStride(p.Mask!.Heads, p.Mask.Batch))
                + (head * p.MaskHeadStride(p.Mask.Heads)) + ((long)query * p.KeyLength) + firstKey;
            for (int j = 0; j < keys; j++)
            {
                if (!values[j])
                {
                    scores[j] = float.NegativeInfinity;
                }
            }
        }

        for (int j = 0; j < keys; j++)
        {
            int key = firstKey + j;
            if (key < lo || key >= hi)
            {
                scores[j] = float.NegativeInfinity;
            }
        }
    }
}
