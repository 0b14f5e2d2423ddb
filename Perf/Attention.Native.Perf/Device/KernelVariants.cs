using Attention.Native.Cuda;

namespace Attention.Native.Perf.Device;

/// <summary>
/// The CUDA kernel variants the device commands run: <c>auto</c> (the backend's own choice) and each kernel forced
/// through <c>ATTENTION_NATIVE_CUDA_KERNEL</c>, as a user would force it.
/// </summary>
internal static class KernelVariants
{
    public const string Auto = "auto";

    /// <summary>The variants of a comma-separated list (<c>auto,simt,splitkv,mma</c>), checked, in order, no repeats.</summary>
    /// <exception cref="ArgumentException">A name is not a variant.</exception>
    public static IReadOnlyList<string> Parse(string list)
    {
        var names = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(n => n.ToLowerInvariant()).Distinct().ToList();
        foreach (string name in names)
        {
            _ = CudaKernelSelector.ParseForced(name);
        }

        return names.Count > 0 ? names : throw new ArgumentException("No kernel variant named.", nameof(list));
    }

    /// <summary>A CUDA backend created with <c>ATTENTION_NATIVE_CUDA_KERNEL</c> set to <paramref name="variant"/>
    /// (unset for <c>auto</c>); the variable is restored afterwards (backends read it when they are created).</summary>
    public static CudaBackend CreateBackend(string variant)
    {
        string? saved = Environment.GetEnvironmentVariable(CudaKernelSelector.EnvironmentVariable);
        Environment.SetEnvironmentVariable(CudaKernelSelector.EnvironmentVariable, variant == Auto ? null : variant);
        try
        {
            return new CudaBackend();
        }
        finally
        {
            Environment.SetEnvironmentVariable(CudaKernelSelector.EnvironmentVariable, saved);
        }
    }

    /// <summary>Why <paramref name="variant"/> cannot run a call of <paramref name="shape"/>, or null when it can
    /// (<c>auto</c> runs everything).</summary>
    public static string? Unsupported(string variant, AttentionShape shape, bool probabilities) =>
        CudaKernelSelector.ParseForced(variant) is { } kernel ? CudaKernelSelector.Unsupported(kernel, shape, probabilities) : null;

    /// <summary>The kernel <c>auto</c> picks for a plain call (no mask, default options) of <paramref name="shape"/>.</summary>
    public static string AutoChoice(AttentionShape shape, CausalMask causal)
    {
        var problem = Attention.Native.Validation.AttentionValidator.Validate(
            shape, new AttentionOptions { Causal = causal },
            new(shape.QueryElementCount, shape.KeyElementCount, shape.ValueElementCount, shape.OutputElementCount, -1, -1));
        return CudaKernelSelector.Name(CudaKernelSelector.Select(problem, null));
    }
}
