using Attention.Native.Cuda.Hopper;
using Attention.Native.Cuda.Mma;
using Attention.Native.Cuda.SplitKv;
using Attention.Native.Validation;

namespace Attention.Native.Cuda;

/// <summary>The CUDA backend's attention kernels.</summary>
internal enum CudaAttentionKernel
{
    /// <summary><c>attention_simt</c>: one warp per query row, every option (the only one with probabilities).</summary>
    Simt,

    /// <summary><c>attention_splitkv</c>: flash-decoding for Lq ≤ 16, keys split across blocks, then merged.</summary>
    SplitKv,

    /// <summary><c>attention_mma</c>: the mma.sync FlashAttention-2-style kernel for Half and BFloat16, and
    /// for float as TF32 where <see cref="CudaBackendOptions.AllowTensorFloat32"/> allows it.</summary>
    Mma,

    /// <summary><c>attention_hopper</c>: the sm_90a FlashAttention-3-class kernel (TMA, wgmma, warp specialisation) for
    /// Half and BFloat16 on compute capability 9.0 devices, every option but the boolean mask and bias.</summary>
    Hopper,
}

/// <summary>
/// Picks the kernel for a problem: a forced one (<see cref="EnvironmentVariable"/> or the backend's options) when it
/// can run the problem — else <see cref="NotSupportedException"/>, never a silent fallback — otherwise split-KV for
/// decode-like problems (Lq ≤ 16 with Lk ≥ <see cref="SplitKvMinKeyLength"/>), on a compute capability 9.0 device
/// the Hopper kernel for the rest it can run (Half and BFloat16 without a mask or bias; the caller falls back to the
/// next choice, recording why, where the device's driver cannot load it), the mma kernel for the rest
/// where it can run them (Half and BFloat16 operands, and float ones when TF32 is allowed; head dims ≤ 256,
/// 16-byte-aligned rows) and SIMT otherwise (float operands without TF32, odd strides). Requests for the probabilities always go to SIMT, forced or not: it is the only
/// kernel that writes them. Paged K/V (<see cref="PagedKeyValueLayout"/>) runs where the page size suits the kernel:
/// SIMT and float split-KV look each key's page up (any page size), 16-bit split-KV an 8-key stage's, the mma kernel a
/// key block's (<see cref="PagedUnsupported"/>); the Hopper kernel refuses it.
/// </summary>
internal static class CudaKernelSelector
{
    public const string EnvironmentVariable = "ATTENTION_NATIVE_CUDA_KERNEL";

    /// <summary>Below this many keys the split-KV kernel has too little to split: SIMT runs such calls.</summary>
    public const int SplitKvMinKeyLength = 128;

    /// <summary>
    /// The kernel <paramref name="value"/> (the environment variable's text) forces: <c>simt</c>, <c>splitkv</c>,
    /// <c>mma</c> or <c>hopper</c> (any case); null for none (unset, empty or <c>auto</c>).
    /// </summary>
    /// <exception cref="ArgumentException">The value names no kernel (the message names the variable and the choices).</exception>
    public static CudaAttentionKernel? ParseForced(string? value) => value?.Trim().ToUpperInvariant() switch
    {
        null or "" or "AUTO" => null,
        "SIMT" => CudaAttentionKernel.Simt,
        "SPLITKV" => CudaAttentionKernel.SplitKv,
        "MMA" => CudaAttentionKernel.Mma,
        "HOPPER" => CudaAttentionKernel.Hopper,
        // No parameter name: the value comes from the environment, and the message names the variable.
        _ => throw new ArgumentException($"{EnvironmentVariable}='{value}' is not one of auto, simt, splitkv, mma, hopper."),
    };

    /// <summary>The kernel the environment forces, if any.</summary>
    /// <exception cref="ArgumentException">The variable names no kernel.</exception>
    public static CudaAttentionKernel? ForcedByEnvironment() =>
        ParseForced(Environment.GetEnvironmentVariable(EnvironmentVariable));

    /// <summary>The kernel that runs <paramref name="problem"/>.</summary>
    /// <param name="problem">The validated call.</param>
    /// <param name="forced">The kernel the caller forces, or null to choose.</param>
    /// <param name="elementType">The operands' element type (float, Half or BFloat16).</param>
    /// <param name="allowTensorFloat32">Whether float operands may run on the tensor cores as TF32
    /// (<see cref="CudaBackendOptions.AllowTensorFloat32"/>).</param>
    /// <param name="operandsAligned">Whether the operands start 16-byte aligned (views at element offsets may not:
    /// the mma kernel cannot run those).</param>
    /// <param name="hopperDevice">Whether the device is compute capability 9.0, where the Hopper kernel is the
    /// default for what it can run.</param>
    /// <exception cref="NotSupportedException">The forced kernel cannot run the problem (the message names the option).</exception>
    public static CudaAttentionKernel Select(
        AttentionProblem problem, CudaAttentionKernel? forced, Type elementType, bool allowTensorFloat32 = false,
        bool operandsAligned = true, bool hopperDevice = false)
    {
        if (problem.WantsProbabilities)
        {
            return CudaAttentionKernel.Simt;
        }

        if (forced is { } kernel)
        {
            return Supports(kernel, problem, elementType, allowTensorFloat32, out string? reason, operandsAligned)
                ? kernel
                : throw new NotSupportedException($"{EnvironmentVariable}={Name(kernel)} cannot run this call: {reason}");
        }

        if (problem.QueryLength <= AttentionSplitKvGeometry.MaxQueryLength
            && problem.KeyLength >= SplitKvMinKeyLength
            && Supports(CudaAttentionKernel.SplitKv, problem, elementType, allowTensorFloat32, out _, operandsAligned))
        {
            return CudaAttentionKernel.SplitKv;
        }

        if (hopperDevice && Supports(CudaAttentionKernel.Hopper, problem, elementType, allowTensorFloat32, out _, operandsAligned))
        {
            return CudaAttentionKernel.Hopper;
        }

        return Supports(CudaAttentionKernel.Mma, problem, elementType, allowTensorFloat32, out _, operandsAligned)
            ? CudaAttentionKernel.Mma
            : CudaAttentionKernel.Simt;
    }

    /// <summary>Whether <paramref name="kernel"/> can run <paramref name="problem"/> (device limits aside: the launch
    /// geometry checks those).</summary>
    /// <param name="kernel">The kernel.</param>
    /// <param name="problem">The validated call.</param>
    /// <param name="elementType">The operands' element type (float, Half or BFloat16).</param>
    /// <param name="allowTensorFloat32">Whether float operands may run on the tensor cores as TF32.</param>
    /// <param name="reason">Why not, naming the option; null when it can.</param>
    /// <param name="operandsAligned">Whether the operands start 16-byte aligned.</param>
    public static bool Supports(
        CudaAttentionKernel kernel, AttentionProblem problem, Type elementType, bool allowTensorFloat32, out string? reason,
        bool operandsAligned = true)
    {
        if (kernel == CudaAttentionKernel.Mma)
        {
            if (!operandsAligned)
            {
                reason = "the mma kernel needs query, key and value to start 16-byte aligned; these operands are " +
                    "views that do not (a layer's packed projections whose head sizes are not multiples of 16 bytes).";
                return false;
            }

            if (elementType == typeof(float) && !allowTensorFloat32)
            {
                reason = "float operands run on the tensor cores only as TF32, which CudaBackendOptions.AllowTensorFloat32 " +
                    "turns on (inputs rounded to a 10-bit mantissa: about 5e-4 relative error instead of 1e-5).";
                return false;
            }

            // Its limits include the operands' strides and element type, not only the shape.
            return AttentionMmaGeometry.Supports(problem, elementType, out reason);
        }

        if (kernel == CudaAttentionKernel.Hopper)
        {
            if (!operandsAligned)
            {
                reason = "the Hopper kernel reads query, key and value through TMA tensor maps, which need them to start " +
                    "16-byte aligned; these operands are views that do not.";
                return false;
            }

            // The device and its driver are the caller's to check (HopperAttention.Unavailable).
            return AttentionHopperGeometry.Supports(problem, elementType, out reason);
        }

        reason = Unsupported(kernel, problem.Shape, problem.WantsProbabilities)
            ?? (kernel == CudaAttentionKernel.SplitKv ? PagedUnsupported(problem, elementType) : null);
        return reason is null;
    }

    /// <summary>
    /// Why the split-KV kernel cannot read <paramref name="problem"/>'s paged K/V, or null when it can (or K/V are not
    /// paged): its 16-bit path copies 8-key stages, each from one page, so the page size must be a multiple of 8; the
    /// float path looks each key's page up.
    /// </summary>
    public static string? PagedUnsupported(AttentionProblem problem, Type elementType) =>
        problem.Paging is { } paging && elementType != typeof(float)
            && paging.PageSize % AttentionSplitKvGeometry.TensorCoreStageKeys != 0
            ? $"the split-KV kernel copies paged K/V {AttentionSplitKvGeometry.TensorCoreStageKeys} keys at a time from one " +
                $"page: pages.PageSize = {paging.PageSize} must be a multiple of {AttentionSplitKvGeometry.TensorCoreStageKeys}."
            : null;

    /// <summary>Why <paramref name="kernel"/> cannot run a call of <paramref name="shape"/>, or null when it can
    /// (the split-KV and SIMT kernels depend on the shape alone; for the mma kernel use
    /// <see cref="Supports"/>, which also sees the strides and element type).</summary>
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
        CudaAttentionKernel.Hopper => "the Hopper kernel (attention_hopper) depends on the strides, element type and masks: ask Supports.",
        _ => "the mma kernel (attention_mma) depends on the strides and element type: ask Supports.",
    };

    /// <summary>The kernel's name as the environment variable spells it.</summary>
    public static string Name(CudaAttentionKernel kernel) => kernel switch
    {
        CudaAttentionKernel.Simt => "simt",
        CudaAttentionKernel.SplitKv => "splitkv",
        CudaAttentionKernel.Hopper => "hopper",
        _ => "mma",
    };
}
