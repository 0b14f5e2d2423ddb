using Attention.Native.Validation;

namespace Attention.Native.Cuda;

/// <summary>The CUDA backend's attention kernels.</summary>
internal enum CudaAttentionKernel
{
    /// <summary><c>attention_simt</c>: one warp per query row, every option (the only one with probabilities).</summary>
    Simt,

    /// <summary><c>attention_splitkv</c>: flash-decoding for Lq ≤ 16, keys split across blocks, then merged.</summary>
    SplitKv,

    /// <summary>The tensor-core prefill kernel (<c>attention_mma</c>), not in this build yet.</summary>
    TensorCore,
}

/// <summary>
/// Picks the kernel for a problem: a forced one (<see cref="EnvironmentVariable"/> or the backend's options) when it
/// can run the problem — else <see cref="NotSupportedException"/>, never a silent fallback — otherwise split-KV for
/// decode-like problems (Lq ≤ 16 with Lk ≥ <see cref="SplitKvMinKeyLength"/>) and SIMT for the rest. Requests for the
/// probabilities always go to SIMT, forced or not: it is the only kernel that writes them.
/// </summary>
internal static class CudaKernelSelector
{
    public const string EnvironmentVariable = "ATTENTION_NATIVE_CUDA_KERNEL";

    /// <summary>Below this many keys the split-KV kernel has too little to split: SIMT runs such calls.</summary>
    public const int SplitKvMinKeyLength = 128;

    /// <summary>
    /// The kernel <paramref name="value"/> (the environment variable's text) forces: <c>simt</c>, <c>splitkv</c> or
    /// <c>mma</c> (any case); null for none (unset, empty or <c>auto</c>).
    /// </summary>
    /// <exception cref="ArgumentException">The value names no kernel (the message names the variable and the choices).</exception>
    public static CudaAttentionKernel? ParseForced(string? value) => value?.Trim().ToUpperInvariant() switch
    {
        null or "" or "AUTO" => null,
        "SIMT" => CudaAttentionKernel.Simt,
        "SPLITKV" => CudaAttentionKernel.SplitKv,
        "MMA" => CudaAttentionKernel.TensorCore,
        _ => throw new ArgumentException(
            $"{EnvironmentVariable}='{value}' is not one of auto, simt, splitkv, mma.", nameof(value)),
    };

    /// <summary>The kernel the environment forces, if any.</summary>
    /// <exception cref="ArgumentException">The variable names no kernel.</exception>
    public static CudaAttentionKernel? ForcedByEnvironment() =>
        ParseForced(Environment.GetEnvironmentVariable(EnvironmentVariable));

    /// <summary>The kernel that runs <paramref name="problem"/>.</summary>
    /// <param name="problem">The validated call.</param>
    /// <param name="forced">The kernel the caller forces, or null to choose.</param>
    /// <exception cref="NotSupportedException">The forced kernel cannot run the problem (the message names the option).</exception>
    public static CudaAttentionKernel Select(AttentionProblem problem, CudaAttentionKernel? forced)
    {
        if (problem.WantsProbabilities)
        {
            return CudaAttentionKernel.Simt;
        }

        if (forced is { } kernel)
        {
            return Supports(kernel, problem, out string? reason)
                ? kernel
                : throw new NotSupportedException($"{EnvironmentVariable}={Name(kernel)} cannot run this call: {reason}");
        }

        return problem.QueryLength <= AttentionSplitKvGeometry.MaxQueryLength
            && problem.KeyLength >= SplitKvMinKeyLength
            && Supports(CudaAttentionKernel.SplitKv, problem, out _)
            ? CudaAttentionKernel.SplitKv
            : CudaAttentionKernel.Simt;
    }

    /// <summary>Whether <paramref name="kernel"/> can run <paramref name="problem"/> (device limits aside: the launch
    /// geometry checks those).</summary>
    /// <param name="kernel">The kernel.</param>
    /// <param name="problem">The validated call.</param>
    /// <param name="reason">Why not, naming the option; null when it can.</param>
    public static bool Supports(CudaAttentionKernel kernel, AttentionProblem problem, out string? reason)
    {
        reason = Unsupported(kernel, problem.Shape, problem.WantsProbabilities);
        return reason is null;
    }

    /// <summary>Why <paramref name="kernel"/> cannot run a call of <paramref name="shape"/>, or null when it can.</summary>
    public static string? Unsupported(CudaAttentionKernel kernel, AttentionShape shape, bool wantsProbabilities) => kernel switch
    {
        CudaAttentionKernel.Simt => null,
        CudaAttentionKernel.SplitKv when wantsProbabilities =>
            "probabilities are written by the SIMT kernel only.",
        CudaAttentionKernel.SplitKv when shape.QueryLength > AttentionSplitKvGeometry.MaxQueryLength =>
            $"the split-KV kernel takes shape.QueryLength up to {AttentionSplitKvGeometry.MaxQueryLength}, not {shape.QueryLength}.",
        CudaAttentionKernel.SplitKv when shape.HeadDim > AttentionSplitKvGeometry.MaxHeadDim
            || shape.ValueHeadDim > AttentionSplitKvGeometry.MaxHeadDim =>
            $"the split-KV kernel takes shape.HeadDim and shape.ValueHeadDim up to {AttentionSplitKvGeometry.MaxHeadDim}, " +
            $"not {shape.HeadDim} and {shape.ValueHeadDim}.",
        CudaAttentionKernel.SplitKv => null,
        _ => "the tensor-core kernel (attention_mma) is not in this build.",
    };

    /// <summary>The kernel's name as the environment variable spells it.</summary>
    public static string Name(CudaAttentionKernel kernel) => kernel switch
    {
        CudaAttentionKernel.Simt => "simt",
        CudaAttentionKernel.SplitKv => "splitkv",
        _ => "mma",
    };
}
