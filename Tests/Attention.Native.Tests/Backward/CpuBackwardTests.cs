using Attention.Native.Cpu;

namespace Attention.Native.Tests.Backward;

/// <summary>
/// The CPU backward against the float64 reference backward: every case on the best variant (spans, all cores), a
/// subset through tensors (one thread) and on each ISA variant.
/// </summary>
[Trait("Isa", "Rerun")]
public sealed class CpuBackwardTests
{
    public static TheoryData<string> Cases() => BackwardCases.Names();

    public static TheoryData<CpuKernelVariant, string> VariantCases()
    {
        var data = new TheoryData<CpuKernelVariant, string>();
        foreach (var variant in new[] { CpuKernelVariant.Vector512, CpuKernelVariant.Vector256, CpuKernelVariant.Vector128, CpuKernelVariant.Scalar })
        {
            foreach (string name in BackwardCases.VariantSubset)
            {
                data.Add(variant, name);
            }
        }

        return data;
    }

    public static TheoryData<string> Subset() => new(BackwardCases.VariantSubset);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_reference(string name)
    {
        using var backend = new CpuBackend();
        BackwardChecker.Check(backend, BackwardCases.Get(name));
    }

    [Theory]
    [MemberData(nameof(Subset))]
    public void Matches_reference_through_tensors(string name)
    {
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 1 });
        BackwardChecker.Check(backend, BackwardCases.Get(name), viaTensors: true);
    }

    /// <summary>Each ISA variant, forced (emulated where this machine lacks it).</summary>
    [Theory]
    [MemberData(nameof(VariantCases))]
    public void Each_variant_matches_reference(CpuKernelVariant variant, string name)
    {
        using var backend = new CpuBackend(new CpuBackendOptions { Variant = variant, ThreadCount = 3 });
        Assert.Equal(variant, backend.Variant);
        BackwardChecker.Check(backend, BackwardCases.Get(name));
    }
}
