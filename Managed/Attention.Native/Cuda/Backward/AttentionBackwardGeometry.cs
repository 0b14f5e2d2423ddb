using Attention.Native.Cuda.Interop;
using Attention.Native.Validation;

namespace Attention.Native.Cuda.Backward;

/// <summary>
/// The launches of the attention backward (Native/attention_backward.cu, Native/README.md): <c>prepare</c> and
/// <c>dq</c> one warp per query row, grid <c>(⌈Lq/4⌉, Hq, B)</c>, block <c>(32, 4)</c>; <c>simt</c> one CTA of 128
/// threads per key block of <see cref="BlockN"/> keys, grid <c>(⌈Lk/16⌉, Hkv, B)</c>, with the dynamic shared memory
/// of <see cref="SharedBytes"/>. A problem the kernels cannot take on this device is rejected here, before anything is
/// uploaded or launched.
/// </summary>
internal static class AttentionBackwardGeometry
{
    /// <summary>Keys per CTA of <c>attention_backward_simt</c> (<c>kBwdBlockN</c>).</summary>
    public const int BlockN = 16;

    /// <summary>Query rows per iteration of its loop (<c>kBwdBlockM</c>).</summary>
    public const int BlockM = 16;

    /// <summary>Threads of a <c>attention_backward_simt</c> CTA (<c>kBwdThreads</c>).</summary>
    public const int Threads = 128;

    private const int WarpSize = 32;

    private const int RowWarps = 4;

    /// <summary>The three launches for <paramref name="problem"/>.</summary>
    /// <exception cref="NotSupportedException">The head dims need more shared memory than the device has, or there are
    /// more heads or batches than a grid dimension holds; the message names the option.</exception>
    public static (LaunchConfiguration Rows, LaunchConfiguration Keys) Configure(
        AttentionProblem problem, KernelLimits limits, nint stream)
    {
        long shared = SharedBytes(problem.HeadDim, problem.ValueHeadDim);
        if (shared > limits.MaxDynamicSharedBytes)
        {
            throw new NotSupportedException(
                $"The CUDA backend cannot run the backward of shape.HeadDim = {problem.HeadDim} with shape.ValueHeadDim = " +
                $"{problem.ValueHeadDim}: attention_backward_simt stages {shared} bytes of shared memory per block " +
                $"(K, V, Q, dO tiles and the dK, dV accumulators of {BlockN} keys and {BlockM} rows), and this device allows " +
                $"{limits.MaxDynamicSharedBytes}. Use the CPU backend for head dims this large.");
        }

        if (problem.QueryHeads > limits.MaxGridY)
        {
            throw new NotSupportedException(
                $"The CUDA backend cannot run the backward of shape.QueryHeads = {problem.QueryHeads}: its kernels put heads " +
                $"on the grid's y dimension, which holds at most {limits.MaxGridY} on this device.");
        }

        if (problem.Batch > limits.MaxGridZ)
        {
            throw new NotSupportedException(
                $"The CUDA backend cannot run the backward of shape.Batch = {problem.Batch}: its kernels put the batch on " +
                $"the grid's z dimension, which holds at most {limits.MaxGridZ} on this device.");
        }

        uint rowBlocks = (uint)((problem.QueryLength + (long)RowWarps - 1) / RowWarps);
        uint keyBlocks = (uint)((problem.KeyLength + (long)BlockN - 1) / BlockN);
        return (
            new LaunchConfiguration(rowBlocks, (uint)problem.QueryHeads, (uint)problem.Batch, WarpSize, RowWarps, 1, 0, stream),
            new LaunchConfiguration(
                keyBlocks, (uint)problem.KeyValueHeads, (uint)problem.Batch, Threads, 1, 1, (uint)shared, stream));
    }

    /// <summary>Keys per CTA of <c>attention_backward_mma</c> (<c>backward_mma::kBn</c>: 4 warps × 16).</summary>
    public const int MmaBlockN = 64;

    /// <summary>
    /// Whether <c>attention_backward_mma</c> takes the problem: Half or BFloat16 operands with <c>D = Dv</c> = 64 or
    /// 128. Everything else runs on <c>attention_backward_simt</c> (Native/attention_backward_mma.cu says why).
    /// </summary>
    public static bool MmaTakes(AttentionProblem problem, Type elementType) =>
        (elementType == typeof(Half) || elementType == typeof(BFloat16))
        && problem.HeadDim == problem.ValueHeadDim && problem.HeadDim is 64 or 128;

    /// <summary>
    /// The launch of <c>attention_backward_mma</c> in place of the SIMT kernel's: grid <c>(⌈Lk/64⌉, Hkv, B)</c>, block
    /// 128, the dynamic shared memory of <c>backward_mma::shared_bytes&lt;D&gt;()</c> (46 592 bytes at D = 64, 45 952
    /// at 128). The caller has configured the SIMT launches first (<see cref="Configure"/>), which checks the grid limits.
    /// </summary>
    public static LaunchConfiguration ConfigureMma(AttentionProblem problem, nint stream)
    {
        int rowsPerBlock = problem.HeadDim == 64 ? 64 : 16;
        int shared = (2 * (((2 * MmaBlockN) + (2 * rowsPerBlock)) * (problem.HeadDim + 8) + (rowsPerBlock * (MmaBlockN + 8))))
            + (2 * sizeof(float) * rowsPerBlock);
        uint keyBlocks = (uint)((problem.KeyLength + (long)MmaBlockN - 1) / MmaBlockN);
        return new LaunchConfiguration(
            keyBlocks, (uint)problem.KeyValueHeads, (uint)problem.Batch, Threads, 1, 1, (uint)shared, stream);
    }

    /// <summary>
    /// Dynamic shared memory of a <c>attention_backward_simt</c> CTA, <c>backward_shared_floats</c> of the kernel: K,
    /// V, Q and dO tiles with rows padded by one float, the dK and dV accumulators, the rows' lse and delta, and the
    /// P and G tiles (rows of <see cref="BlockN"/> + 1).
    /// </summary>
    public static long SharedBytes(int headDim, int valueHeadDim) =>
        sizeof(float) * (
            ((long)BlockN * ((2L * headDim) + (2L * valueHeadDim) + 2)) +
            ((long)BlockM * (headDim + 1L + valueHeadDim + 1L + 2)) +
            (2L * BlockM * (BlockN + 1)));

    /// <summary>Bytes of the fp32 workspace: the dQ accumulator <c>[B, Hq, Lq, D]</c>, then delta <c>[B, Hq, Lq]</c>.</summary>
    public static long WorkspaceBytes(AttentionProblem problem) =>
        sizeof(float) * RowCount(problem) * (problem.HeadDim + 1L);

    /// <summary>Query rows of the problem, <c>B·Hq·Lq</c>.</summary>
    public static long RowCount(AttentionProblem problem) =>
        (long)problem.Batch * problem.QueryHeads * problem.QueryLength;
}
