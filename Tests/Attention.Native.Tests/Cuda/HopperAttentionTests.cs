using Attention.Native.Cuda;
using Attention.Native.Cuda.Hopper;

namespace Attention.Native.Tests.Cuda;

/// <summary>
/// The sm_90a kernel <c>attention_hopper</c> on a device: forced, every <see cref="CaseCatalog"/> case it takes in Half
/// and BFloat16 against the float64 reference (≤ 1e-2, fully masked rows exactly 0 with lse −∞, nothing written
/// outside the output view), skipped with the reason where the device cannot run it (not compute capability 9.0, or a
/// driver that loads neither the sm_90a cubin nor its PTX, such as an emulated device without the kernel); and the
/// automatic choice on a 9.0 device that cannot: the call runs on the next kernel, correctly, with the reason kept.
/// </summary>
[Trait("Device", "Cuda")]
public sealed class HopperAttentionTests
{
    public static TheoryData<string> AllCases => CaseCatalog.Names();

    [CudaTheory]
    [MemberData(nameof(AllCases))]
    public void Half_matches_reference(string name) =>
        MmaAttentionTests.CheckForced<Half>(CaseCatalog.Get(name), CudaAttentionKernel.Hopper, Unavailable<Half>);

    [CudaTheory]
    [MemberData(nameof(AllCases))]
    public void BFloat16_matches_reference(string name) =>
        MmaAttentionTests.CheckForced<BFloat16>(CaseCatalog.Get(name), CudaAttentionKernel.Hopper, Unavailable<BFloat16>);

    [CudaFact]
    public void A_9_0_device_that_cannot_load_the_kernel_runs_the_next_one_and_keeps_why()
    {
        CudaTestEnvironment.SkipUnlessAvailable();
        using var backend = new CudaBackend();
        var shape = new AttentionShape(1, 4, 2, 70, 90, 64, 64);
        var options = new AttentionOptions { Causal = CausalMask.BottomRight };
        var random = TestRandom.Create(18);
        var q = TestData.Random<Half>(random, shape.QueryElementCount, 1f);
        var k = TestData.Random<Half>(random, shape.KeyElementCount, 1f);
        var v = TestData.Random<Half>(random, shape.ValueElementCount, 1f);
        var problem = CudaKernelSelectorTests.Problem(shape);
        string? unavailable = Unavailable<Half>(problem);
        Assert.SkipUnless(
            AttentionHopperKernels.IsHopper(backend.Device) && unavailable is not null,
            $"the device is not compute capability 9.0, or it runs attention_hopper ({backend.Device})");

        var output = TestData.Poison<Half>(shape.OutputElementCount);
        backend.ScaledDotProductAttention<Half>(shape, q, k, v, output, options);

        Assert.Equal(unavailable, backend.HopperFallbackReason);
        Assert.Contains("the sm_90a kernel could not be loaded", backend.SelectionReason, StringComparison.Ordinal);
        var reference = Reference.ReferenceAttention.Compute<Half>(shape, q, k, v, options);
        double error = reference.RelativeError<Half>(output, AttentionLayout.Bhsd, null);
        Assert.True(error <= 1e-2, $"relative error {error:E3} > 1e-2");
        using var forced = new CudaBackend(new CudaBackendOptions { Kernel = CudaAttentionKernel.Hopper }, "forced by the test");
        var error2 = Assert.Throws<NotSupportedException>(() => forced.ScaledDotProductAttention<Half>(
            shape, q, k, v, output, options));
        Assert.Contains("ATTENTION_NATIVE_CUDA_KERNEL=hopper", error2.Message, StringComparison.Ordinal);
    }

    [CudaFact]
    public void A_fallback_is_told_once_in_the_selection_reason()
    {
        CudaTestEnvironment.SkipUnlessAvailable();
        using var backend = new CudaBackend();
        string before = backend.SelectionReason;
        backend.NoteHopperFallback("The driver loads neither the sm_90a cubin nor its PTX: CUDA_ERROR_NO_BINARY_FOR_GPU.");
        backend.NoteHopperFallback("a second reason.");

        Assert.Equal("a second reason.", backend.HopperFallbackReason);
        Assert.Equal(
            before + " On this compute capability 9.0 device the sm_90a kernel could not be loaded (The driver loads " +
            "neither the sm_90a cubin nor its PTX: CUDA_ERROR_NO_BINARY_FOR_GPU); calls run on the mma kernel.",
            backend.SelectionReason);
    }

    // Why this device cannot run the problem on attention_hopper (its options, the device, the driver), or null.
    private static string? Unavailable<T>(Validation.AttentionProblem problem)
        where T : unmanaged
    {
        using var backend = new CudaBackend();
        return HopperAttention.Unavailable<T>(backend, problem, out _);
    }
}
