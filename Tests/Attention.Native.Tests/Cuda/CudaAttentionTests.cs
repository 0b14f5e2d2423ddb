using Attention.Native.Cuda;

namespace Attention.Native.Tests.Cuda;

/// <summary>The CPU backend's correctness tests on the CUDA backend; skipped, with the reason, without a device.</summary>
[Trait("Device", "Cuda")]
public sealed class CudaAttentionTests : AttentionBackendTests
{
    protected override AttentionBackend CreateBackend()
    {
        CudaTestEnvironment.SkipUnlessAvailable();
        return new CudaBackend();
    }
}
