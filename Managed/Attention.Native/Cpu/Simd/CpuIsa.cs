using System.Runtime.Intrinsics;

namespace Attention.Native.Cpu.Simd;

/// <summary>
/// The CPU side's instruction-set variants in one place: which variant runs (<see cref="Resolve"/>: an explicit
/// request, else <c>ATTENTION_NATIVE_CPU_VARIANT</c>, else the widest accelerated) and the one map from a variant to its
/// operator struct (<see cref="Dispatch{TKernel}"/>). Attention (tiled and decode), SGEMM, row projection, additive
/// attention and the Half/BFloat16 conversions all run through it, so a forced variant reaches each of them.
/// </summary>
internal static class CpuIsa
{
    public const string VariantEnvironmentVariable = "ATTENTION_NATIVE_CPU_VARIANT";

    /// <summary>
    /// The variant to run: an explicit request, else the environment variable, else the widest accelerated one.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="requested"/> is not a defined variant.</exception>
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

    /// <summary>The widest variant the hardware accelerates here (Scalar where none is).</summary>
    public static CpuKernelVariant Best() =>
        IsAccelerated(CpuKernelVariant.Vector512) ? CpuKernelVariant.Vector512
        : IsAccelerated(CpuKernelVariant.Vector256) ? CpuKernelVariant.Vector256
        : IsAccelerated(CpuKernelVariant.Vector128) ? CpuKernelVariant.Vector128
        : CpuKernelVariant.Scalar;

    /// <summary>Whether <paramref name="variant"/> runs on hardware here rather than emulated.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="variant"/> is not a defined variant.</exception>
    public static bool IsAccelerated(CpuKernelVariant variant)
    {
        var query = new AccelerationQuery();
        Dispatch(variant, ref query);
        return query.IsAccelerated;
    }

    /// <summary>
    /// Runs <paramref name="kernel"/> with the operator struct of <paramref name="variant"/>; <see cref="CpuKernelVariant.Auto"/>
    /// is resolved first (<see cref="Resolve"/>). The only switch over the variants.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="variant"/> is not a defined variant.</exception>
    /// <exception cref="ArgumentException"><see cref="CpuKernelVariant.Auto"/> and the environment variable names no variant.</exception>
    public static void Dispatch<TKernel>(CpuKernelVariant variant, ref TKernel kernel)
        where TKernel : struct, ISimdKernel, allows ref struct
    {
        switch (variant)
        {
            case CpuKernelVariant.Vector512:
                kernel.Run<Vector512Ops, Vector512<float>>();
                break;
            case CpuKernelVariant.Vector256:
                kernel.Run<Vector256Ops, Vector256<float>>();
                break;
            case CpuKernelVariant.Vector128:
                kernel.Run<Vector128Ops, Vector128<float>>();
                break;
            case CpuKernelVariant.Scalar:
                kernel.Run<ScalarOps, float>();
                break;
            case CpuKernelVariant.Auto:
                Dispatch(Resolve(CpuKernelVariant.Auto), ref kernel);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(variant), variant, "Not a defined CpuKernelVariant.");
        }
    }

    /// <summary>Reads the variant's <see cref="ISimd{TVec}.IsHardwareAccelerated"/>.</summary>
    private struct AccelerationQuery : ISimdKernel
    {
        public bool IsAccelerated { get; private set; }

        public void Run<TOps, TVec>()
            where TOps : ISimd<TVec>
            where TVec : unmanaged => IsAccelerated = TOps.IsHardwareAccelerated;
    }
}
