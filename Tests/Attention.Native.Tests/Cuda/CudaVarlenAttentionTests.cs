using Attention.Native.Cuda;

namespace Attention.Native.Tests.Cuda;

/// <summary>The varlen tests on the CUDA backend; skipped, with the reason, without a device.</summary>
[Trait("Device", "Cuda")]
public sealed class CudaVarlenAttentionTests : VarlenAttentionTests
{
    protected override AttentionBackend CreateBackend()
    {
        CudaTestEnvironment.SkipUnlessAvailable();
        return new CudaBackend();
    }
}
