using Attention.Native.Cuda;
using Attention.Native.Layers;

namespace Attention.Native.Tests.Layers;

/// <summary>
/// The GPU-only projection option: TF32 tensor cores (10-bit mantissas in the products) stay within 5e-3 of the float64
/// reference at E = 256, while the fp32 default stays within 1e-5 (skipped without a device).
/// </summary>
[Trait("Device", "Cuda")]
public sealed class CudaLayerPrecisionTests
{
    [CudaTheory]
    [InlineData(false, 1e-5)]
    [InlineData(true, 5e-3)]
    public void Tensor_float32_projections_stay_within_their_tolerance(bool tf32, double tolerance)
    {
        var fixture = new LayerFixture(new MultiHeadAttentionOptions(256, 4) { AllowTensorFloat32 = tf32 }, seed: 4);
        using var backend = new CudaBackend();
        using var layer = fixture.Create(backend);
        var x = fixture.Input(2, 48, 256);
        var output = TestData.Poison<float>(x.Length);
        layer.Forward(2, x, output);
        LayerFixture.AssertClose(fixture.Reference(2, x, x, x).Output, output, tolerance);
    }
}
