using Attention.Native.Cuda;

namespace Attention.Native.Tests.Cuda;

/// <summary>
/// Each CUDA kernel forced over the case catalog (every case it can run), through spans and tensors; skipped without
/// a device. The automatic choice is covered by <see cref="CudaAttentionTests"/>.
/// </summary>
[Trait("Device", "Cuda")]
public sealed class CudaForcedKernelTests
{
    public static TheoryData<string> AllCases => CaseCatalog.Names();

    public static TheoryData<string> SplitKvCases => CaseCatalog.Names(
        c => CudaKernelSelector.Unsupported(CudaAttentionKernel.SplitKv, c.Shape, c.WithProbabilities) is null);

    [CudaTheory]
    [MemberData(nameof(AllCases))]
    public void Simt_matches_reference(string name) => Check(CudaAttentionKernel.Simt, name);

    [CudaTheory]
    [MemberData(nameof(SplitKvCases))]
    public void Split_kv_matches_reference(string name) => Check(CudaAttentionKernel.SplitKv, name);

    [CudaTheory]
    [InlineData(CudaAttentionKernel.SplitKv, "shape.QueryLength")]
    [InlineData(CudaAttentionKernel.Mma, "ATTENTION_NATIVE_CUDA_KERNEL=mma")]
    internal void Forcing_a_kernel_that_cannot_run_the_call_names_the_option(CudaAttentionKernel kernel, string expected)
    {
        using var backend = Backend(kernel);
        var shape = new AttentionShape(1, 2, 2, 64, 64, 32, 32);
        var error = Assert.Throws<NotSupportedException>(() => backend.ScaledDotProductAttention<float>(
            shape, new float[shape.QueryElementCount], new float[shape.KeyElementCount], new float[shape.ValueElementCount],
            new float[shape.OutputElementCount], AttentionOptions.Default));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [CudaFact]
    public void Forcing_mma_on_float_with_tf32_allowed_runs_tf32()
    {
        CudaTestEnvironment.SkipUnlessAvailable();
        using var backend = new CudaBackend(
            new CudaBackendOptions { Kernel = CudaAttentionKernel.Mma, AllowTensorFloat32 = true }, "forced by the test");
        var shape = new AttentionShape(2, 4, 2, 100, 130, 64, 64);
        var random = TestRandom.Create(6);
        var q = TestData.Random<float>(random, shape.QueryElementCount, 1f);
        var k = TestData.Random<float>(random, shape.KeyElementCount, 1f);
        var v = TestData.Random<float>(random, shape.ValueElementCount, 1f);
        var output = new float[shape.OutputElementCount];
        backend.ScaledDotProductAttention<float>(shape, q, k, v, output, AttentionOptions.Default);
        var reference = Reference.ReferenceAttention.Compute<float>(shape, q, k, v, AttentionOptions.Default);
        double error = reference.RelativeError<float>(output, AttentionLayout.Bhsd, null);
        Assert.True(error <= 5e-4, $"relative error {error:E3} > 5e-4");
    }

    private static void Check(CudaAttentionKernel kernel, string name)
    {
        using var backend = Backend(kernel);
        AttentionChecker.Check(backend, CaseCatalog.Get(name));
        AttentionChecker.Check(backend, CaseCatalog.Get(name), viaTensors: true);
    }

    private static CudaBackend Backend(CudaAttentionKernel kernel)
    {
        CudaTestEnvironment.SkipUnlessAvailable();
        return new CudaBackend(new CudaBackendOptions { Kernel = kernel }, "forced by the test");
    }
}
