using Attention.Native.Cuda.Interop;
using Attention.Native.Validation;

namespace Attention.Native.Cuda.Mma;

/// <summary>
/// One head-dim bucket of the mma kernel <c>attention_mma_d&lt;HeadDim&gt;_{f16,bf16,f32}</c>: the tile its
/// template instantiation was built with (<c>TileD*</c> in Native/attention_mma.cu and <c>TileTf32D*</c> in
/// Native/attention_mma_tf32.cu, which record why each was chosen). A CTA owns <paramref name="BlockM"/> query rows
/// and walks the keys <paramref name="BlockN"/> at a time with <paramref name="Warps"/> warps; Q, K and V tiles are
/// <paramref name="HeadDim"/> wide (D and Dv zero-padded up to it), K and V in <paramref name="Stages"/> buffers each.
/// </summary>
/// <param name="HeadDim">The bucket: the largest D and Dv the entry point takes.</param>
/// <param name="BlockM">Query rows per CTA (grid x is ⌈Lq / BlockM⌉).</param>
/// <param name="BlockN">Keys per step.</param>
/// <param name="Warps">Warps per CTA.</param>
/// <param name="ElementBytes">Bytes per element in shared memory: 2 (f16/bf16), 4 (the TF32 kernel's fp32).</param>
/// <param name="RowPadding">Elements of padding after each shared-memory row (the TF32 kernel's 4; the f16/bf16
/// tiles are swizzled instead).</param>
/// <param name="Stages">Buffers of K and of V: 2 (the next key block's copies fly into the other one), or 1 (the d256
/// tile, whose double buffers would leave one CTA per SM).</param>
internal readonly record struct AttentionMmaTile(
    int HeadDim, int BlockM, int BlockN, int Warps, int ElementBytes = 2, int RowPadding = 0, int Stages = 2)
{
    /// <summary>Threads per CTA (block x).</summary>
    public int Threads => 32 * Warps;

    /// <summary>Dynamic shared memory: Q plus the stages of K and V.</summary>
    public int SharedBytes => ElementBytes * (BlockM + (2 * Stages * BlockN)) * (HeadDim + RowPadding);
}

/// <summary>
/// The launch geometry of <c>attention_mma</c> and what it supports: f16/bf16 operands, and float ones on the TF32
/// kernel (whether a call may use it is <see cref="CudaKernelSelector"/>'s decision: <see
/// cref="CudaBackendOptions.AllowTensorFloat32"/>); D and Dv up to 256, q/k/v strides that are multiples of 16 bytes
/// (each row starts 16-byte aligned, as the 16-byte <c>cp.async</c> copies need), output strides that are even (the
/// epilogue stores element pairs), no probabilities output. Grid
/// <c>(⌈Lq / BlockM⌉, Hq, B)</c>, block <c>(32 · Warps)</c>, dynamic shared memory per <see cref="AttentionMmaTile"/>.
/// </summary>
internal static class AttentionMmaGeometry
{
    /// <summary>q, k and v strides must be multiples of this many bytes.</summary>
    public const int OperandStrideAlignmentBytes = 16;

    /// <summary>The f16/bf16 buckets, smallest first, as Native/attention_mma.cu instantiates them.</summary>
    public static readonly AttentionMmaTile[] Tiles =
    [
        new(32, 128, 64, 4),
        new(64, 128, 64, 4),
        new(96, 128, 64, 4),
        new(128, 128, 64, 4),
        new(160, 128, 64, 8),
        new(192, 128, 64, 8),
        new(256, 64, 64, 4, Stages: 1),
    ];

    /// <summary>The TF32 kernel's buckets (float operands), smallest first, as Native/attention_mma_tf32.cu
    /// instantiates them: fp32 rows padded by 4 elements.</summary>
    public static readonly AttentionMmaTile[] Tf32Tiles =
    [
        new(32, 128, 64, 8, 4, 4),
        new(64, 128, 64, 4, 4, 4),
        new(96, 128, 64, 8, 4, 4),
        new(128, 128, 32, 8, 4, 4),
        new(160, 64, 32, 4, 4, 4),
        new(192, 64, 32, 4, 4, 4),
        new(256, 64, 16, 4, 4, 4),
    ];

    /// <summary>The buckets of the kernels for operands of <paramref name="elementType"/>: <see cref="Tf32Tiles"/>
    /// for float, <see cref="Tiles"/> otherwise.</summary>
    public static AttentionMmaTile[] TilesFor(Type elementType) => elementType == typeof(float) ? Tf32Tiles : Tiles;

    /// <summary>The smallest bucket that holds both head dims, or null past 256.</summary>
    /// <param name="headDim">D.</param>
    /// <param name="valueHeadDim">Dv.</param>
    /// <param name="elementType">The operand type; null for Half (the f16/bf16 tiles).</param>
    public static AttentionMmaTile? TileFor(int headDim, int valueHeadDim, Type? elementType = null)
    {
        int widest = Math.Max(headDim, valueHeadDim);
        foreach (var tile in TilesFor(elementType ?? typeof(Half)))
        {
            if (widest <= tile.HeadDim)
            {
                return tile;
            }
        }

        return null;
    }

    /// <summary>Whether the kernel can run <paramref name="problem"/> for element type <typeparamref name="T"/>.</summary>
    /// <param name="problem">The validated call.</param>
    /// <param name="reason">Why not (naming the option), or null when it can.</param>
    /// <returns>True when it can.</returns>
    public static bool Supports<T>(AttentionProblem problem, out string? reason)
        where T : unmanaged => Supports(problem, typeof(T), out reason);

    /// <summary>Whether the kernel can run <paramref name="problem"/> with operands of <paramref name="elementType"/>
    /// (for callers that are not generic in it, such as a kernel selector).</summary>
    /// <param name="problem">The validated call.</param>
    /// <param name="elementType">The operand type: Half, BFloat16 and float (TF32) are supported.</param>
    /// <param name="reason">Why not (naming the option), or null when it can.</param>
    /// <returns>True when it can.</returns>
    public static bool Supports(AttentionProblem problem, Type elementType, out string? reason)
    {
        reason = Unsupported(problem, elementType);
        return reason is null;
    }

    /// <summary>The launch for <paramref name="problem"/>.</summary>
    /// <param name="problem">The validated call.</param>
    /// <param name="limits">The kernel's limits on this device.</param>
    /// <param name="stream">The <c>CUstream</c> to launch on.</param>
    /// <param name="elementType">The operand type; null for Half (the f16/bf16 tiles).</param>
    /// <returns>The bucket and the configuration.</returns>
    /// <exception cref="NotSupportedException">The head dims exceed 256, the tile needs more shared memory than the
    /// device allows, or there are more heads or batches than a grid dimension holds; the message names the option.</exception>
    public static (AttentionMmaTile Tile, LaunchConfiguration Configuration) Configure(
        AttentionProblem problem, KernelLimits limits, nint stream, Type? elementType = null)
    {
        var tile = TileFor(problem.HeadDim, problem.ValueHeadDim, elementType) ?? throw new NotSupportedException(
            $"The attention_mma kernel takes head dims up to 256; shape.HeadDim = {problem.HeadDim}, " +
            $"shape.ValueHeadDim = {problem.ValueHeadDim}.");
        if (tile.SharedBytes > limits.MaxDynamicSharedBytes)
        {
            throw new NotSupportedException(
                $"The attention_mma kernel for shape.HeadDim = {problem.HeadDim} (bucket {tile.HeadDim}) needs " +
                $"{tile.SharedBytes} bytes of shared memory per block, and this device allows {limits.MaxDynamicSharedBytes}.");
        }

        if (problem.QueryHeads > limits.MaxGridY)
        {
            throw new NotSupportedException(
                $"The attention_mma kernel cannot run shape.QueryHeads = {problem.QueryHeads}: query heads are on the " +
                $"grid's y dimension, which holds at most {limits.MaxGridY} on this device.");
        }

        if (problem.Batch > limits.MaxGridZ)
        {
            throw new NotSupportedException(
                $"The attention_mma kernel cannot run shape.Batch = {problem.Batch}: the batch is on the grid's z " +
                $"dimension, which holds at most {limits.MaxGridZ} on this device.");
        }

        uint blocksX = (uint)((problem.QueryLength + (long)tile.BlockM - 1) / tile.BlockM);
        var configuration = new LaunchConfiguration(
            blocksX, (uint)problem.QueryHeads, (uint)problem.Batch, (uint)tile.Threads, 1, 1, (uint)tile.SharedBytes, stream);
        return (tile, configuration);
    }

    private static string? Unsupported(AttentionProblem p, Type elementType)
    {
        int elementBytes = elementType == typeof(float) ? 4 : 2;
        if (elementType != typeof(Half) && elementType != typeof(BFloat16) && elementType != typeof(float))
        {
            return $"The attention_mma kernel takes Half and BFloat16 operands (and Single as TF32), not {elementType.Name}.";
        }

        if (p.WantsProbabilities)
        {
            return "The attention_mma kernel does not write probabilities (the SIMT kernel does).";
        }

        if (TileFor(p.HeadDim, p.ValueHeadDim) is null)
        {
            return $"The attention_mma kernel takes head dims up to 256; shape.HeadDim = {p.HeadDim}, shape.ValueHeadDim = {p.ValueHeadDim}.";
        }

        if (p.Paging is { } paging && TileFor(p.HeadDim, p.ValueHeadDim, elementType) is { } tile
            && paging.PageSize % tile.BlockN != 0)
        {
            return $"The attention_mma kernel reads paged K/V a key block ({tile.BlockN} keys at this head dim) at a time " +
                $"from one page: pages.PageSize = {paging.PageSize} must be a multiple of {tile.BlockN}.";
        }

        foreach (var (name, strides) in new[] { ("query", p.Query), ("key", p.Key), ("value", p.Value) })
        {
            if (!AllMultiplesOf(strides, OperandStrideAlignmentBytes / elementBytes))
            {
                return $"The attention_mma kernel copies {name} rows 16 bytes at a time: its strides ({strides.Batch}, " +
                    $"{strides.Head}, {strides.Sequence}) must be multiples of {OperandStrideAlignmentBytes / elementBytes} elements.";
            }
        }

        return AllMultiplesOf(p.Output, 2)
            ? null
            : $"The attention_mma kernel stores output element pairs: its strides ({p.Output.Batch}, {p.Output.Head}, " +
                $"{p.Output.Sequence}) must be even.";
    }

    private static bool AllMultiplesOf(TensorStrides s, int n) => s.Batch % n == 0 && s.Head % n == 0 && s.Sequence % n == 0;
}
