using System.Runtime.Intrinsics;
using Attention.Native.Cpu.Decode;
using Attention.Native.Cpu.Simd;
using Attention.Native.Cpu.Tiled;
using Attention.Native.Validation;

namespace Attention.Native.Cpu;

/// <summary>Picks the kernel variant (ISA width) and the kernel (tiled or decode) for a problem.</summary>
internal static class CpuKernels
{
    public const string VariantEnvironmentVariable = "ATTENTION_NATIVE_CPU_VARIANT";

    /// <summary>
    /// The variant to run: an explicit request, else the environment variable, else the widest accelerated one.
    /// </summary>
    /// <exception cref="ArgumentException">The environment variable names no variant.</exception>
    public static CpuKernelVariant Resolve(CpuKernelVariant requested)
    {
        if (requested != CpuKernelVariant.Auto)
        {
            return Enum.IsDefined(requested) ? requested
                : throw new ArgumentOutOfRangeException("options", requested, "options.Variant is not a defined CpuKernelVariant.");
        }

        string? forced = Environment.GetEnvironmentVariable(VariantEnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(forced))
        {
            // Names only: Enum.TryParse would also take "2" for Vector256.
            return !int.TryParse(forced, out _)
                && Enum.TryParse<CpuKernelVariant>(forced.Trim(), ignoreCase: true, out var parsed) && Enum.IsDefined(parsed)
                ? (parsed == CpuKernelVariant.Auto ? Best() : parsed)
                : throw new ArgumentException(
                    $"{VariantEnvironmentVariable}='{forced}' is not one of Auto, Vector512, Vector256, Vector128, Scalar.");
        }

        return Best();
    }

    /// <summary>Whether <paramref name="variant"/> runs on hardware here rather than emulated.</summary>
    public static bool IsAccelerated(CpuKernelVariant variant) => variant switch
    {
        CpuKernelVariant.Vector512 => Vector512Ops.IsHardwareAccelerated,
        CpuKernelVariant.Vector256 => Vector256Ops.IsHardwareAccelerated,
        CpuKernelVariant.Vector128 => Vector128Ops.IsHardwareAccelerated,
        _ => ScalarOps.IsHardwareAccelerated,
    };

    public static void Run<T>(CpuKernelVariant variant, AttentionProblem problem, in Operands<T> operands, int threads)
        where T : unmanaged
    {
        switch (variant)
        {
            case CpuKernelVariant.Vector512:
                Run<T, Vector512Ops, Vector512<float>>(problem, operands, threads);
                break;
            case CpuKernelVariant.Vector256:
                Run<T, Vector256Ops, Vector256<float>>(problem, operands, threads);
                break;
            case CpuKernelVariant.Vector128:
                Run<T, Vector128Ops, Vector128<float>>(problem, operands, threads);
                break;
            default:
                Run<T, ScalarOps, float>(problem, operands, threads);
                break;
        }
    }

    /// <summary>
    /// Whether a problem takes the decode kernel (few queries, no probabilities requested, a query group whose state
    /// it can hold).
    /// </summary>
    public static bool UsesDecodeKernel(AttentionProblem problem) => DecodeAttentionKernel<ScalarOps, float>.Takes(problem);

    private static void Run<T, TOps, TVec>(AttentionProblem problem, in Operands<T> operands, int threads)
        where T : unmanaged
        where TOps : ISimd<TVec>
        where TVec : unmanaged
    {
        if (UsesDecodeKernel(problem))
        {
            DecodeAttentionKernel<TOps, TVec>.Run(problem, operands, threads);
        }
        else
        {
            TiledAttentionKernel<TOps, TVec>.Run(problem, operands, threads);
        }
    }

    private static CpuKernelVariant Best() =>
        IsAccelerated(CpuKernelVariant.Vector512) ? CpuKernelVariant.Vector512
        : IsAccelerated(CpuKernelVariant.Vector256) ? CpuKernelVariant.Vector256
        : IsAccelerated(CpuKernelVariant.Vector128) ? CpuKernelVariant.Vector128
        : CpuKernelVariant.Scalar;
}
