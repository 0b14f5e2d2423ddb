using Attention.Native.Cpu;
using Attention.Native.Cuda;

namespace Attention.Native.Tests.Layers;

/// <summary>The backends the layer test classes run on: the CPU, and CUDA (skipping, with the reason, without a device).</summary>
public static class LayerTestBackends
{
    public static AttentionBackend Cpu() => new CpuBackend();

    public static AttentionBackend Cpu(CpuKernelVariant variant) => new CpuBackend(new CpuBackendOptions { Variant = variant });

    public static AttentionBackend Cuda()
    {
        CudaTestEnvironment.SkipUnlessAvailable();
        return new CudaBackend();
    }
}

/// <summary>The layer tests on the CPU backend.</summary>
public sealed class CpuMultiHeadAttentionTests : MultiHeadAttentionTests
{
    protected override AttentionBackend CreateBackend() => LayerTestBackends.Cpu();
}

/// <summary>The layer tests on the CUDA backend.</summary>
[Trait("Device", "Cuda")]
public sealed class CudaMultiHeadAttentionTests : MultiHeadAttentionTests
{
    protected override AttentionBackend CreateBackend() => LayerTestBackends.Cuda();
}

/// <summary>The cache tests on the CPU backend.</summary>
public sealed class CpuKeyValueCacheTests : KeyValueCacheTests
{
    protected override AttentionBackend CreateBackend() => LayerTestBackends.Cpu();
}

/// <summary>The cache tests on the CUDA backend.</summary>
[Trait("Device", "Cuda")]
public sealed class CudaKeyValueCacheTests : KeyValueCacheTests
{
    protected override AttentionBackend CreateBackend() => LayerTestBackends.Cuda();
}

/// <summary>The additive attention tests on the CPU backend.</summary>
public sealed class CpuAdditiveAttentionTests : AdditiveAttentionTests
{
    protected override AttentionBackend CreateBackend() => LayerTestBackends.Cpu();
}

/// <summary>The additive attention tests on the CPU backend, Vector512 forced (emulated where this machine lacks it).</summary>
public sealed class CpuVector512AdditiveAttentionTests : AdditiveAttentionTests
{
    protected override AttentionBackend CreateBackend() => LayerTestBackends.Cpu(CpuKernelVariant.Vector512);
}

/// <summary>The additive attention tests on the CPU backend, Vector256 forced.</summary>
public sealed class CpuVector256AdditiveAttentionTests : AdditiveAttentionTests
{
    protected override AttentionBackend CreateBackend() => LayerTestBackends.Cpu(CpuKernelVariant.Vector256);
}

/// <summary>The additive attention tests on the CPU backend, Vector128 forced.</summary>
public sealed class CpuVector128AdditiveAttentionTests : AdditiveAttentionTests
{
    protected override AttentionBackend CreateBackend() => LayerTestBackends.Cpu(CpuKernelVariant.Vector128);
}

/// <summary>The additive attention tests on the CPU backend, Scalar forced.</summary>
public sealed class CpuScalarAdditiveAttentionTests : AdditiveAttentionTests
{
    protected override AttentionBackend CreateBackend() => LayerTestBackends.Cpu(CpuKernelVariant.Scalar);
}

/// <summary>The additive attention tests on the CUDA backend.</summary>
[Trait("Device", "Cuda")]
public sealed class CudaAdditiveAttentionTests : AdditiveAttentionTests
{
    protected override AttentionBackend CreateBackend() => LayerTestBackends.Cuda();
}

/// <summary>The Half/BFloat16 layer tests on the CPU backend.</summary>
public sealed class CpuLayerElementTypeTests : LayerElementTypeTests
{
    protected override AttentionBackend CreateBackend() => LayerTestBackends.Cpu();
}

/// <summary>The Half/BFloat16 layer tests on the CUDA backend.</summary>
[Trait("Device", "Cuda")]
public sealed class CudaLayerElementTypeTests : LayerElementTypeTests
{
    protected override AttentionBackend CreateBackend() => LayerTestBackends.Cuda();
}
