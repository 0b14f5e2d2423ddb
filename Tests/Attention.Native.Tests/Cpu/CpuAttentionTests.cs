using Attention.Native.Cpu;

namespace Attention.Native.Tests.Cpu;

/// <summary>
/// Every case against the float64 reference on the best CPU variant (spans: all cores; tensors: one thread), and each
/// ISA variant on a subset.
/// </summary>
[Trait("Isa", "Rerun")]
public sealed class CpuAttentionTests : AttentionBackendTests
{
    public static TheoryData<CpuKernelVariant, string> VariantCases()
    {
        var data = new TheoryData<CpuKernelVariant, string>();
        foreach (var variant in new[] { CpuKernelVariant.Vector512, CpuKernelVariant.Vector256, CpuKernelVariant.Vector128, CpuKernelVariant.Scalar })
        {
            foreach (string name in CaseCatalog.VariantSubset)
            {
                data.Add(variant, name);
            }
        }

        return data;
    }

    /// <summary>Each ISA variant, forced (emulated where this machine lacks it), on cases covering both kernels.</summary>
    [Theory]
    [MemberData(nameof(VariantCases))]
    public void Each_variant_matches_reference(CpuKernelVariant variant, string name)
    {
        using var backend = new CpuBackend(new CpuBackendOptions { Variant = variant, ThreadCount = 3 });
        Assert.Equal(variant, backend.Variant);
        AttentionChecker.Check(backend, CaseCatalog.Get(name));
    }

    protected override AttentionBackend CreateBackend() => new CpuBackend();

    protected override AttentionBackend CreateTensorBackend() => new CpuBackend(new CpuBackendOptions { ThreadCount = 1 });
}
