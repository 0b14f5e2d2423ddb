using Attention.Native.Cuda.Interop;
using Attention.Native.Validation;

namespace Attention.Native.Cuda.SplitKv;

/// <summary>
/// The launches of the split-KV (flash-decoding) kernels, Native/README.md: the partial kernel over
/// <c>(splits · ⌈(Hq/Hkv)·Lq / R⌉, Hkv, B)</c> blocks of 128 threads — R query rows a block: 8 for Half and
/// BFloat16 (tensor cores), 4 for float (FMA pipes) — then, with more than one split, the merge over
/// <c>(⌈Hq·Lq / 4⌉, B)</c> blocks of 128 threads; and how many splits.
/// </summary>
/// <remarks>
/// <para>The split count: a launch should fill at least <see cref="Waves"/> waves of the device's SMs
/// (<c>2 · SMs</c> blocks), so a decode step with few (batch, kv head) pairs splits its keys until it does:
/// <c>splits = ⌈2 · SMs / blocks⌉</c> with <c>blocks = B · Hkv · row chunks</c>. Each split keeps at least
/// <see cref="MinKeysPerSplit"/> keys, so that its partial output and the merge stay small beside the K/V it reads,
/// and there are at most <see cref="MaxSplits"/>. One split (enough blocks already, or short keys) skips the merge:
/// the partial kernel writes O and lse itself.</para>
/// <para>Example, H200 (132 SMs), bf16, Hkv = 8, Lq = 1, GQA group 4 (one row chunk): B = 1, Lk = 32k gives
/// ⌈264 / 8⌉ = 33 splits of ~1k keys; B = 1, Lk = 4k gives min(33, 4096/128 = 32) = 32; B = 64 gives 512 blocks,
/// one split.</para>
/// <para>Shared memory, as the kernel computes it (Native/attention_splitkv_mma.cuh, attention_splitkv_simt.cuh):
/// 16-bit blocks hold each warp's ring of 8-key K/V stages and Q's tile, the ring deep enough to keep 12 KiB of K/V
/// in flight per warp (≤ 8 stages) as far as 99 KiB allows — the most any sm_80+ GPU gives a block (sm_86, sm_89) —
/// so one geometry runs everywhere: 65,808 bytes at D = Dv = 64 (7 stages), 72,080 at 128 (4 stages), 72,336 at 256
/// (2 stages). Float blocks hold 4 warps × 3 stages of 8 KiB: 98,304 bytes.</para>
/// </remarks>
internal static class AttentionSplitKvGeometry
{
    public const int Threads = 128;

    public const int Warps = 4;

    /// <summary>Query rows (GQA group × Lq) one 16-bit partial block holds: the N of its mmas.</summary>
    public const int TensorCoreRowsPerBlock = 8;

    /// <summary>Query rows one float partial block holds.</summary>
    public const int FloatRowsPerBlock = 4;

    /// <summary>Keys of one warp's stage in a 16-bit block.</summary>
    public const int TensorCoreStageKeys = 8;

    /// <summary>K/V bytes a 16-bit block's warp keeps in flight, as far as <see cref="TensorCoreSharedBudget"/> allows.</summary>
    public const int TensorCoreInFlightBytes = 12 * 1024;

    /// <summary>The deepest ring a 16-bit block's warp keeps.</summary>
    public const int TensorCoreMaxStages = 8;

    /// <summary>The shared memory a 16-bit block sizes its ring to: 99 KiB.</summary>
    public const int TensorCoreSharedBudget = 99 * 1024;

    /// <summary>Dynamic shared memory of a float partial block: 4 warps × 3 stages × 8 KiB.</summary>
    public const int FloatSharedBytes = 4 * 3 * 8192;

    /// <summary>The largest D and Dv.</summary>
    public const int MaxHeadDim = 256;

    /// <summary>The largest Lq the split-KV path takes.</summary>
    public const int MaxQueryLength = 16;

    public const int MaxSplits = 128;

    public const int MinKeysPerSplit = 128;

    public const int Waves = 2;

    public const int MergeRowsPerBlock = 4;

    private const long WorkspaceAlignment = 64;  // floats: 256 bytes

    /// <summary>Whether the partial kernel for <paramref name="elementType"/> runs on the tensor cores (Half and
    /// BFloat16) rather than the FMA pipes (float).</summary>
    public static bool UsesTensorCores(Type elementType) => elementType == typeof(Half) || elementType == typeof(BFloat16);

    /// <summary>Query rows one partial block of <paramref name="elementType"/> holds.</summary>
    public static int RowsPerBlock(Type elementType) =>
        UsesTensorCores(elementType) ? TensorCoreRowsPerBlock : FloatRowsPerBlock;

    /// <summary>Stages of a 16-bit block's per-warp ring: the one being read plus enough to hold
    /// <see cref="TensorCoreInFlightBytes"/>, as many as fit <see cref="TensorCoreSharedBudget"/> beside Q's tile, at
    /// most <see cref="TensorCoreMaxStages"/> (never fewer than 2 within the head-dim limit).</summary>
    public static int TensorCoreStages(int headDim, int valueHeadDim)
    {
        int stage = StageBytes(headDim, valueHeadDim);
        int wanted = 1 + ((TensorCoreInFlightBytes + stage - 1) / stage);
        long fit = (TensorCoreSharedBudget - QueryTileBytes(headDim)) / (Warps * (long)stage);
        return (int)Math.Min(Math.Min(wanted, fit), TensorCoreMaxStages);
    }

    /// <summary>Dynamic shared memory of a partial block.</summary>
    public static long SharedBytes(Type elementType, int headDim, int valueHeadDim) =>
        UsesTensorCores(elementType)
            ? (Warps * (long)TensorCoreStages(headDim, valueHeadDim) * StageBytes(headDim, valueHeadDim)) + QueryTileBytes(headDim)
            : FloatSharedBytes;

    /// <summary>How many key splits for <paramref name="problem"/> on a device of <paramref name="multiprocessors"/> SMs.</summary>
    public static int Splits(AttentionProblem problem, Type elementType, int multiprocessors)
    {
        long blocks = (long)problem.Batch * problem.KeyValueHeads * RowChunks(problem, elementType);
        long target = (long)Waves * Math.Max(multiprocessors, 1);
        if (blocks >= target)
        {
            return 1;
        }

        long byKeys = Math.Max(1, (problem.KeyLength + MinKeysPerSplit - 1) / MinKeysPerSplit);
        return (int)Math.Min(Math.Min((target + blocks - 1) / blocks, byKeys), MaxSplits);
    }

    /// <summary>The two launches, the split count and the workspace they need.</summary>
    /// <exception cref="NotSupportedException">Head dims above 256, or more kv heads or batches than a grid dimension
    /// holds; the message names the option.</exception>
    public static SplitKvLaunch Configure(
        AttentionProblem problem, Type elementType, KernelLimits limits, int multiprocessors, nint stream)
    {
        if (problem.HeadDim > MaxHeadDim || problem.ValueHeadDim > MaxHeadDim)
        {
            throw new NotSupportedException(
                $"The split-KV kernel cannot run shape.HeadDim = {problem.HeadDim} with shape.ValueHeadDim = " +
                $"{problem.ValueHeadDim}: it takes head dims up to {MaxHeadDim}.");
        }

        long shared = SharedBytes(elementType, problem.HeadDim, problem.ValueHeadDim);
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

        int splits = Splits(problem, elementType, multiprocessors);
        var partial = new LaunchConfiguration(
            (uint)(splits * RowChunks(problem, elementType)), (uint)problem.KeyValueHeads, (uint)problem.Batch, Threads, 1, 1,
            (uint)shared, stream);
        var merge = new LaunchConfiguration(
            (uint)(((long)problem.QueryHeads * problem.QueryLength + MergeRowsPerBlock - 1) / MergeRowsPerBlock),
            (uint)problem.Batch, 1, Threads, 1, 1, 0, stream);
        long rows = (long)problem.Batch * problem.QueryHeads * problem.QueryLength;
        long outputFloats = splits == 1 ? 0 : Align(splits * rows * problem.ValueHeadDim);
        long lseFloats = splits == 1 ? 0 : splits * rows;
        return new SplitKvLaunch(partial, merge, splits, outputFloats, outputFloats + lseFloats);
    }

    /// <summary>Partial blocks per (split, kv head, batch): the GQA group's rows in chunks of
    /// <see cref="RowsPerBlock"/>.</summary>
    public static long RowChunks(AttentionProblem problem, Type elementType)
    {
        int rowsPerBlock = RowsPerBlock(elementType);
        return (((long)problem.GroupSize * problem.QueryLength) + rowsPerBlock - 1) / rowsPerBlock;
    }

    // A head dim padded to whole 16-column mma steps, and a row of it in shared memory (8 more elements: an odd
    // number of 16-byte chunks, so that ldmatrix reads 8 rows from 8 different bank quads).
    private static int Padded(int dim) => (dim + 15) / 16 * 16;

    private static int Pitch(int dim) => Padded(dim) + 8;

    // One warp's 16-bit stage: 8 K rows, then 8 V rows; Q's tile: 8 rows and a zero row.
    private static int StageBytes(int headDim, int valueHeadDim) => TensorCoreStageKeys * (Pitch(headDim) + Pitch(valueHeadDim)) * 2;

    private static int QueryTileBytes(int headDim) => (TensorCoreRowsPerBlock + 1) * Pitch(headDim) * 2;

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
