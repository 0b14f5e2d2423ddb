using Attention.Native.Cuda.Interop;
using Attention.Native.Validation;

namespace Attention.Native.Cuda.Simt;

/// <summary>
/// The launch geometry of <c>attention_simt</c> (Native/README.md): one warp per query row, four rows per block, grid
/// <c>(⌈Lq/4⌉, Hq, B)</c>, block <c>(32, 4)</c>, dynamic shared memory <c>4·(D + Dv)·sizeof(float)</c>. A problem the
/// kernel cannot take on this device is rejected here, before anything is uploaded or launched.
/// </summary>
internal static class AttentionSimtGeometry
{
    public const int WarpSize = 32;

    public const int RowsPerBlock = 4;

    /// <summary>The launch for <paramref name="problem"/>.</summary>
    /// <param name="problem">The validated call.</param>
    /// <param name="limits">The kernel's limits on this device.</param>
    /// <param name="stream">The <c>CUstream</c> to launch on.</param>
    /// <returns>The configuration.</returns>
    /// <exception cref="NotSupportedException">The head dims need more shared memory than the device has, or there are
    /// more heads or batches than a grid dimension holds; the message names the option.</exception>
    public static LaunchConfiguration Configure(AttentionProblem problem, KernelLimits limits, nint stream)
    {
        long shared = SharedBytes(problem.HeadDim, problem.ValueHeadDim);
        if (shared > limits.MaxDynamicSharedBytes)
        {
            throw new NotSupportedException(
                $"The CUDA backend cannot run shape.HeadDim = {problem.HeadDim} with shape.ValueHeadDim = " +
                $"{problem.ValueHeadDim}: its attention_simt kernel stages {RowsPerBlock}·(D + Dv) floats = {shared} bytes " +
                $"of shared memory per block, and this device allows {limits.MaxDynamicSharedBytes}. Use the CPU backend " +
                "for head dims this large.");
        }

        if (problem.QueryHeads > limits.MaxGridY)
        {
            throw new NotSupportedException(
                $"The CUDA backend cannot run shape.QueryHeads = {problem.QueryHeads}: attention_simt puts query heads on " +
                $"the grid's y dimension, which holds at most {limits.MaxGridY} on this device.");
        }

        if (problem.Batch > limits.MaxGridZ)
        {
            throw new NotSupportedException(
                $"The CUDA backend cannot run shape.Batch = {problem.Batch}: attention_simt puts the batch on the grid's z " +
                $"dimension, which holds at most {limits.MaxGridZ} on this device.");
        }

        uint blocksX = (uint)((problem.QueryLength + (long)RowsPerBlock - 1) / RowsPerBlock);
        return new LaunchConfiguration(
            blocksX, (uint)problem.QueryHeads, (uint)problem.Batch, WarpSize, RowsPerBlock, 1, (uint)shared, stream);
    }

    /// <summary>Dynamic shared memory of a block: each of its warps stages its query row and output accumulator.</summary>
    public static long SharedBytes(int headDim, int valueHeadDim) =>
        RowsPerBlock * ((long)headDim + valueHeadDim) * sizeof(float);
}
