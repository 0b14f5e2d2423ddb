using Attention.Native.Cuda.Interop;
using Attention.Native.Validation;

namespace Attention.Native.Cuda.SplitKv;

/// <summary>
/// The launches of the split-KV (flash-decoding) kernels, Native/README.md: the partial kernel over
/// <c>(splits · ⌈(Hq/Hkv)·Lq / 16⌉, Hkv, B)</c> blocks of 128 threads, then, with more than one split, the merge over
/// <c>(⌈Hq·Lq / 4⌉, B)</c> blocks of 128 threads; and how many splits.
/// </summary>
/// <remarks>
/// <para>The split count: a launch should fill at least <see cref="Waves"/> waves of the device's SMs
/// (<c>2 · SMs</c> blocks), so a decode step with few (batch, kv head) pairs splits its keys until it does:
/// <c>splits = ⌈2 · SMs / blocks⌉</c> with <c>blocks = B · Hkv · row chunks</c>. Each split keeps at least
/// <see cref="MinKeysPerSplit"/> keys (4 tiles), so that its partial output and the merge stay small beside the
/// K/V it reads, and there are at most <see cref="MaxSplits"/>. One split (enough blocks already, or short keys) skips
/// the merge: the partial kernel writes O and lse itself.</para>
/// <para>Example, H200 (132 SMs), Hkv = 8, Lq = 1, GQA group 4 (one row chunk): B = 1, Lk = 32k gives
/// ⌈264 / 8⌉ = 33 splits of ~1k keys; B = 1, Lk = 4k gives min(33, 4096/128 = 32) = 32; B = 64 gives 512 blocks,
/// one split.</para>
/// </remarks>
internal static class AttentionSplitKvGeometry
{
    public const int Threads = 128;

    /// <summary>Query rows (GQA group × Lq) one partial block holds.</summary>
    public const int RowsPerBlock = 16;

    public const int KeysPerTile = 32;

    /// <summary>The largest D and Dv (the accumulator's registers per lane).</summary>
    public const int MaxHeadDim = 256;

    /// <summary>The largest Lq the split-KV path takes.</summary>
    public const int MaxQueryLength = 16;

    public const int MaxSplits = 128;

    public const int MinKeysPerSplit = 128;

    public const int Waves = 2;

    public const int MergeRowsPerBlock = 4;

    private const long WorkspaceAlignment = 64;  // floats: 256 bytes

    /// <summary>How many key splits for <paramref name="problem"/> on a device of <paramref name="multiprocessors"/> SMs.</summary>
    public static int Splits(AttentionProblem problem, int multiprocessors)
    {
        long blocks = (long)problem.Batch * problem.KeyValueHeads * RowChunks(problem);
        long target = (long)Waves * Math.Max(multiprocessors, 1);
        if (blocks >= target)
        {
            return 1;
        }

        long byKeys = Math.Max(1, (problem.KeyLength + MinKeysPerSplit - 1) / MinKeysPerSplit);
        return (int)Math.Min(Math.Min((target + blocks - 1) / blocks, byKeys), MaxSplits);
    }

    /// <summary>Dynamic shared memory of a partial block: Q rows, a K tile (rows padded by 4) and a V tile, as float.</summary>
    public static long SharedBytes(int headDim, int valueHeadDim) =>
        ((RowsPerBlock * (long)Padded(headDim)) + (KeysPerTile * (long)(Padded(headDim) + 4)) + (KeysPerTile * (long)Padded(valueHeadDim)))
        * sizeof(float);

    /// <summary>The two launches, the split count and the workspace they need.</summary>
    /// <exception cref="NotSupportedException">Head dims above 256, or more kv heads or batches than a grid dimension
    /// holds; the message names the option.</exception>
    public static SplitKvLaunch Configure(AttentionProblem problem, KernelLimits limits, int multiprocessors, nint stream)
    {
        if (problem.HeadDim > MaxHeadDim || problem.ValueHeadDim > MaxHeadDim)
        {
            throw new NotSupportedException(
                $"The split-KV kernel cannot run shape.HeadDim = {problem.HeadDim} with shape.ValueHeadDim = " +
                $"{problem.ValueHeadDim}: it takes head dims up to {MaxHeadDim}.");
        }

        long shared = SharedBytes(problem.HeadDim, problem.ValueHeadDim);
        if (shared > limits.MaxDynamicSharedBytes)
        {
            throw new NotSupportedException(
                $"The split-KV kernel cannot run shape.HeadDim = {problem.HeadDim} with shape.ValueHeadDim = " +
                $"{problem.ValueHeadDim} on this device: it needs {shared} bytes of shared memory per block, and the " +
                $"device allows {limits.MaxDynamicSharedBytes}.");
        }

        if (problem.KeyValueHeads > limits.MaxGridY)
        {
            throw new NotSupportedException(
                $"The split-KV kernel cannot run shape.KeyValueHeads = {problem.KeyValueHeads}: it puts kv heads on the " +
                $"grid's y dimension, which holds at most {limits.MaxGridY} on this device.");
        }

        if (problem.Batch > Math.Min(limits.MaxGridY, limits.MaxGridZ))
        {
            throw new NotSupportedException(
                $"The split-KV kernel cannot run shape.Batch = {problem.Batch}: it puts the batch on the grid's z (partial) " +
                $"and y (merge) dimensions, which hold at most {Math.Min(limits.MaxGridY, limits.MaxGridZ)} on this device.");
        }

        int splits = Splits(problem, multiprocessors);
        var partial = new LaunchConfiguration(
            (uint)(splits * RowChunks(problem)), (uint)problem.KeyValueHeads, (uint)problem.Batch, Threads, 1, 1, (uint)shared, stream);
        var merge = new LaunchConfiguration(
            (uint)(((long)problem.QueryHeads * problem.QueryLength + MergeRowsPerBlock - 1) / MergeRowsPerBlock),
            (uint)problem.Batch, 1, Threads, 1, 1, 0, stream);
        long rows = (long)problem.Batch * problem.QueryHeads * problem.QueryLength;
        long outputFloats = splits == 1 ? 0 : Align(splits * rows * problem.ValueHeadDim);
        long lseFloats = splits == 1 ? 0 : splits * rows;
        return new SplitKvLaunch(partial, merge, splits, outputFloats, outputFloats + lseFloats);
    }

    /// <summary>Partial blocks per (kv head, batch): the GQA group's rows in chunks of <see cref="RowsPerBlock"/>.</summary>
    public static long RowChunks(AttentionProblem problem) =>
        (((long)problem.GroupSize * problem.QueryLength) + RowsPerBlock - 1) / RowsPerBlock;

    private static int Padded(int dim) => (dim + 7) / 8 * 8;

    private static long Align(long floats) => (floats + WorkspaceAlignment - 1) / WorkspaceAlignment * WorkspaceAlignment;
}

/// <summary>The split-KV launches of one call.</summary>
/// <param name="Partial">The partial kernel's launch.</param>
/// <param name="Merge">The merge's launch (made only when <paramref name="Splits"/> &gt; 1).</param>
/// <param name="Splits">Key splits.</param>
/// <param name="LseOffset">Where the partial log-sum-exps start in the workspace, in floats (after the partial outputs).</param>
/// <param name="WorkspaceFloats">The workspace: partial outputs, then partial log-sum-exps; 0 for one split.</param>
internal readonly record struct SplitKvLaunch(
    LaunchConfiguration Partial, LaunchConfiguration Merge, int Splits, long LseOffset, long WorkspaceFloats);
