using Attention.Native.Cuda;
using Attention.Native.Cuda.Backward;
using Attention.Native.Cuda.Hopper;
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
        config.Shape.Kv.Length > 0 && CudaKernelSelector.ParseForced(variant) is { } forced && forced != CudaAttentionKernel.SplitKv
            ? "an 8-bit K/V cache is read by the split-KV kernels only"
            : Unsupported(variant, config, PlainProblem(config), ElementType(config.Dtype));

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

    /// <summary>The kernel the library picks for <paramref name="config"/>'s plain call on <paramref name="backend"/> (an
    /// unforced one): the kernel of the backend's own preparation of the call (the Hopper kernel on compute capability
    /// 9.0 where it can run the call), or, where preparing fails (a module or entry that does not load), the selector's
    /// choice for this device that the preparation starts from. Backward: <c>mma</c> or <c>simt</c>, the middle kernel.</summary>
    public static string AutoChoice(CudaBackend backend, BenchConfig config)
    {
        var problem = PlainProblem(config);
        var type = ElementType(config.Dtype);
        if (config.Backward)
        {
            return AttentionBackwardGeometry.MmaTakes(problem, type) ? "mma" : "simt";
        }

        if (config.Shape.Kv.Length > 0)
        {
            return CudaKernelSelector.Name(CudaAttentionKernel.SplitKv);  // the only reader of 8-bit K/V
        }

        try
        {
            var prepared = config.Dtype switch
            {
                "fp32" => CudaAttention.Prepare<float>(backend, problem),
                "fp16" => CudaAttention.Prepare<Half>(backend, problem),
                _ => CudaAttention.Prepare<BFloat16>(backend, problem),
            };
            return CudaKernelSelector.Name(prepared.Kernel);
        }
        catch (Exception e) when (e is CudaException or InvalidOperationException or NotSupportedException)
        {
            return CudaKernelSelector.Name(CudaKernelSelector.Select(
                problem, null, type, backend.AllowTensorFloat32, true, AttentionHopperKernels.IsHopper(backend.Device)));
        }
    }

    /// <summary>The middle kernel (<c>attention_backward_mma_*</c> or <c>_simt_*</c>) of <paramref name="backend"/>'s own
    /// preparation of the plain backward call of <paramref name="shape"/>.</summary>
    public static CudaKernel BackwardMiddle<T>(CudaBackend backend, AttentionShape shape, AttentionOptions options)
        where T : unmanaged
    {
        var problem = AttentionBackwardValidator.Validate(shape, options, new(
            shape.QueryElementCount, shape.KeyElementCount, shape.ValueElementCount, shape.OutputElementCount,
            (long)shape.Batch * shape.QueryHeads * shape.QueryLength, shape.OutputElementCount, shape.QueryElementCount,
            shape.KeyElementCount, shape.ValueElementCount, -1, -1));
        return CudaAttentionBackward.Prepare<T>(backend, problem).Middle;
    }

    private static string? Unsupported(string variant, BenchConfig config, AttentionProblem problem, Type elementType) =>
        !config.Backward ? Unsupported(variant, problem, elementType)
        : CudaKernelSelector.ParseForced(variant) switch
        {
            CudaAttentionKernel.SplitKv => "the backward has no split-KV kernel (it runs on the SIMT or mma kernels)",
            CudaAttentionKernel.Hopper => "the Hopper kernel is forward only (the backward runs on the SIMT or mma kernels)",
            CudaAttentionKernel.Mma when !AttentionBackwardGeometry.MmaTakes(problem, elementType) =>
                "the mma backward takes Half and BFloat16 with D = Dv = 64 or 128",
            _ => null,
        };

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
