using Attention.Native.Cuda.Interop;
using Attention.Native.Validation;

namespace Attention.Native.Cuda.Hopper;

/// <summary>
/// One head-dim bucket of the sm_90a kernel <c>attention_hopper_d&lt;HeadDim&gt;_{f16,bf16}</c>: the traits its
/// template instantiation was built with (<c>TraitsD*</c> in Native/attention_hopper.cu, which records why each was
/// chosen). A CTA owns 128 query rows (two consumer warpgroups of 64) and walks the keys <paramref name="BlockN"/> at
/// a time through <paramref name="Stages"/> shared-memory stages of K and of V.
/// </summary>
/// <param name="HeadDim">The bucket: the largest D and Dv the entry point takes.</param>
/// <param name="BlockN">Keys per step (the K and V tensor maps' box rows).</param>
/// <param name="Stages">K/V stages of the TMA ring.</param>
internal readonly record struct AttentionHopperTile(int HeadDim, int BlockN, int Stages)
{
    /// <summary>Query rows per CTA (grid x is ⌈Lq / BlockM⌉; the Q tensor map's box rows).</summary>
    public const int BlockM = 128;

    /// <summary>Threads per CTA: a producer warpgroup and two consumer warpgroups.</summary>
    public const int Threads = 384;

    /// <summary>Columns per TMA box: 128 bytes of 16-bit elements, the width of the 128-byte swizzle.</summary>
    public const int BoxColumns = 64;

    /// <summary>Dynamic shared memory, as <c>Traits::kSharedBytes</c>: 1 KiB of alignment slack, Q, the stages of K
    /// and V (2 bytes per element) and the mbarriers (one for Q, four per stage, 8 bytes each).</summary>
    public int SharedBytes => 1024 + (2 * BlockM * HeadDim) + (2 * Stages * 2 * BlockN * HeadDim) + (8 * (1 + (4 * Stages)));
}

/// <summary>
/// The launch geometry of <c>attention_hopper</c> and what it supports: Half and BFloat16 operands, D and Dv up to
/// 256, the causal mask (both alignments), key lengths, the window, the soft cap, GQA and the log-sum-exp. The boolean
/// mask and the bias stay on the mma kernel (a TMA tile of K has no per-score operand; reading them per score from
/// global memory inside the consumers' softmax is what the mma kernel already does). TMA needs q, k and v to start
/// 16-byte aligned with strides that are multiples of 16 bytes; the epilogue stores element pairs, so o's strides are
/// even. Grid <c>(⌈Lq / 128⌉, Hq, B)</c>, block 384, dynamic shared memory per <see cref="AttentionHopperTile"/>.
/// </summary>
internal static class AttentionHopperGeometry
{
    /// <summary>q, k and v strides (and starts) must be multiples of this many bytes (TMA's global strides).</summary>
    public const int OperandAlignmentBytes = 16;

    /// <summary>The buckets, smallest first, as Native/attention_hopper.cu instantiates them.</summary>
    public static readonly AttentionHopperTile[] Tiles =
    [
        new(64, 128, 4),
        new(128, 128, 2),
        new(256, 64, 2),
    ];

    /// <summary>The smallest bucket that holds both head dims, or null past 256.</summary>
    public static AttentionHopperTile? TileFor(int headDim, int valueHeadDim)
    {
        int widest = Math.Max(headDim, valueHeadDim);
        foreach (var tile in Tiles)
        {
            if (widest <= tile.HeadDim)
            {
                return tile;
            }
        }

        return null;
    }

    /// <summary>Whether the kernel can run <paramref name="problem"/> with operands of <paramref name="elementType"/>.</summary>
    /// <param name="problem">The validated call.</param>
    /// <param name="elementType">The operand type.</param>
    /// <param name="reason">Why not (naming the option), or null when it can.</param>
    public static bool Supports(AttentionProblem problem, Type elementType, out string? reason)
    {
        reason = Unsupported(problem, elementType);
        return reason is null;
    }

    /// <summary>The launch for <paramref name="problem"/>.</summary>
    /// <exception cref="NotSupportedException">The problem is outside <see cref="Supports"/>, the tile needs more shared
    /// memory than the device allows, or there are more heads or batches than a grid dimension holds.</exception>
    public static (AttentionHopperTile Tile, LaunchConfiguration Configuration) Configure(
        AttentionProblem problem, KernelLimits limits, nint stream)
    {
        var tile = TileFor(problem.HeadDim, problem.ValueHeadDim) ?? throw new NotSupportedException(
            $"The attention_hopper kernel takes head dims up to 256; shape.HeadDim = {problem.HeadDim}, " +
            $"shape.ValueHeadDim = {problem.ValueHeadDim}.");
        if (tile.SharedBytes > limits.MaxDynamicSharedBytes)
        {
            throw new NotSupportedException(
                $"The attention_hopper kernel for shape.HeadDim = {problem.HeadDim} (bucket {tile.HeadDim}) needs " +
                $"{tile.SharedBytes} bytes of shared memory per block, and this device allows {limits.MaxDynamicSharedBytes}.");
        }

        if (problem.QueryHeads > limits.MaxGridY || problem.Batch > limits.MaxGridZ)
        {
            throw new NotSupportedException(
                $"The attention_hopper kernel cannot run shape.QueryHeads = {problem.QueryHeads} and shape.Batch = " +
                $"{problem.Batch}: they are the grid's y and z dimensions, which hold at most {limits.MaxGridY} and " +
                $"{limits.MaxGridZ} on this device.");
        }

        uint blocksX = (uint)((problem.QueryLength + (long)AttentionHopperTile.BlockM - 1) / AttentionHopperTile.BlockM);
        var configuration = new LaunchConfiguration(
            blocksX, (uint)problem.QueryHeads, (uint)problem.Batch, AttentionHopperTile.Threads, 1, 1, (uint)tile.SharedBytes, stream);
        return (tile, configuration);
    }

    private static string? Unsupported(AttentionProblem p, Type elementType)
    {
        if (elementType != typeof(Half) && elementType != typeof(BFloat16))
        {
            return $"The attention_hopper kernel takes Half and BFloat16 operands, not {elementType.Name}.";
        }

        if (p.WantsProbabilities)
        {
            return "The attention_hopper kernel does not write probabilities (the SIMT kernel does).";
        }

        if (p.Mask is not null || p.Bias is not null)
        {
            return "The attention_hopper kernel takes no boolean mask or bias (its K tiles arrive by TMA with no " +
                "per-score operand); the mma kernel runs calls with a mask or bias.";
        }

        // Each refusal names the one option the call asked for: a paged call is told about paging, not sinks.
        string? dense = p.Paging is not null ? "paged K/V (a block table)"
            : p.Varlen is not null ? "varlen offsets (cu_seqlens)"
            : p.Sinks is not null ? "attention sinks"
            : null;
        if (dense is not null)
        {
            return $"The attention_hopper kernel takes no {dense}: its parameters hold dense tensor maps only; the mma " +
                "kernel runs such calls.";
        }

        if (TileFor(p.HeadDim, p.ValueHeadDim) is null)
        {
            return $"The attention_hopper kernel takes head dims up to 256; shape.HeadDim = {p.HeadDim}, shape.ValueHeadDim = {p.ValueHeadDim}.";
        }

        const int elements = OperandAlignmentBytes / 2;
        foreach (var (name, s) in new[] { ("query", p.Query), ("key", p.Key), ("value", p.Value) })
        {
            if (s.Batch % elements != 0 || s.Head % elements != 0 || s.Sequence % elements != 0)
            {
                return $"The attention_hopper kernel reads {name} through a TMA tensor map, whose strides ({s.Batch}, " +
                    $"{s.Head}, {s.Sequence}) must be multiples of {elements} elements (16 bytes).";
            }
        }

        var o = p.Output;
        return o.Batch % 2 == 0 && o.Head % 2 == 0 && o.Sequence % 2 == 0
            ? null
            : $"The attention_hopper kernel stores output element pairs: its strides ({o.Batch}, {o.Head}, {o.Sequence}) must be even.";
    }
}
