using Attention.Native.Cpu;
using Attention.Native.Cpu.Simd;

namespace Attention.Native.Tests.Cpu;

/// <summary>
/// The one dispatch maps each variant to its own operator struct, resolves <see cref="CpuKernelVariant.Auto"/> as a
/// default backend does, and rejects an undefined variant by name.
/// </summary>
public sealed class CpuIsaTests
{
    public static TheoryData<CpuKernelVariant> ConcreteVariants =>
        new(CpuKernelVariant.Vector512, CpuKernelVariant.Vector256, CpuKernelVariant.Vector128, CpuKernelVariant.Scalar);

    [Theory]
    [MemberData(nameof(ConcreteVariants))]
    public void Each_variant_runs_its_own_operator_struct(CpuKernelVariant variant) =>
        Assert.Equal(variant, Probe(variant));

    [Fact]
    public void Auto_runs_the_variant_a_default_backend_resolves()
    {
        using var backend = new CpuBackend();
        Assert.Equal(backend.Variant, Probe(CpuKernelVariant.Auto));
    }

    [Fact]
    public void Undefined_variant_is_rejected()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Probe((CpuKernelVariant)99));
        Assert.Equal("variant", error.ParamName);
    }

    [Fact]
    public void Scalar_is_always_accelerated_and_the_best_variant_is() =>
        Assert.True(CpuIsa.IsAccelerated(CpuKernelVariant.Scalar) && CpuIsa.IsAccelerated(CpuIsa.Best()));

    private static CpuKernelVariant Probe(CpuKernelVariant variant)
    {
        var probe = new VariantProbe();
        CpuIsa.Dispatch(variant, ref probe);
        return probe.Ran;
    }

    private struct VariantProbe : ISimdKernel
    {
        public CpuKernelVariant Ran { get; private set; }

        public void Run<TOps, TVec>()
            where TOps : ISimd<TVec>
            where TVec : unmanaged => Ran = TOps.Variant;
    }
}
