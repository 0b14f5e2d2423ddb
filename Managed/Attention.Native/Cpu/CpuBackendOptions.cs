namespace Attention.Native.Cpu;

/// <summary>Settings of a <see cref="CpuBackend"/>.</summary>
public sealed record CpuBackendOptions
{
    /// <summary>Worker threads per call; 0 (the default) uses <see cref="Environment.ProcessorCount"/>.</summary>
    public int ThreadCount { get; init; }

    /// <summary>
    /// The kernel variant; <see cref="CpuKernelVariant.Auto"/> (the default) honours
    /// <c>ATTENTION_NATIVE_CPU_VARIANT</c>, then picks the widest accelerated variant.
    /// </summary>
    public CpuKernelVariant Variant { get; init; }
}
