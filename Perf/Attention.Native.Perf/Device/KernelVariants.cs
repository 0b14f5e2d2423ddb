using Attention.Native.Cuda;
using Attention.Native.Validation;

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

    /// <summary>Why <paramref name="variant"/> cannot run <paramref name="config"/>'s plain call (contiguous BHSD,
    /// default options), or null when it can (<c>auto</c> runs everything).</summary>
    public static string? Unsupported(string variant, BenchConfig config) =>
        Unsupported(variant, PlainProblem(config), ElementType(config.Dtype));

    /// <summary>Why <paramref name="variant"/> cannot run the sweep case <paramref name="c"/> (its shape, strides,
    /// element type and outputs), or null when it can.</summary>
    public static string? Unsupported(string variant, SweepCase c)
    {
        var s = c.Shape;
        var g = c.Geometry;
        var problem = AttentionValidator.Validate(s, c.Options(null, null), new(
            g.QueryLength, g.KeyLength, g.ValueLength, g.OutputLength, -1, c.WithProbabilities ? s.ProbabilitiesElementCount : -1));
        var type = c.Type switch
        {
            SweepType.Float => typeof(float),
            SweepType.Half => typeof(Half),
            _ => typeof(BFloat16),
        };
        return Unsupported(variant, problem, type);
    }

    /// <summary>The kernel <c>auto</c> picks for <paramref name="config"/>'s plain call.</summary>
    public static string AutoChoice(BenchConfig config) =>
        CudaKernelSelector.Name(CudaKernelSelector.Select(PlainProblem(config), null, ElementType(config.Dtype)));

    private static string? Unsupported(string variant, AttentionProblem problem, Type elementType) =>
        CudaKernelSelector.ParseForced(variant) is { } kernel
        && !CudaKernelSelector.Supports(kernel, problem, elementType, allowTensorFloat32: false, out string? reason) ? reason : null;

    private static AttentionProblem PlainProblem(BenchConfig config)
    {
        var shape = config.AttentionShape;
        return AttentionValidator.Validate(
            shape, new AttentionOptions { Causal = config.Causal ? CausalMask.TopLeft : CausalMask.None },
            new(shape.QueryElementCount, shape.KeyElementCount, shape.ValueElementCount, shape.OutputElementCount, -1, -1));
    }

    private static Type ElementType(string dtype) => dtype switch
    {
        "fp32" => typeof(float),
        "fp16" => typeof(Half),
        "bf16" => typeof(BFloat16),
        _ => throw new InvalidDataException($"Unknown dtype '{dtype}' (fp32, fp16 or bf16)."),
    };
}
