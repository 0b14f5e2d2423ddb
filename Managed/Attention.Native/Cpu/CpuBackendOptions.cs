namespace Attention.Native.Cpu;

/// <summary>Settings of a <see cref="CpuBackend"/>.</summary>
public sealed record CpuBackendOptions
{
    /// <summary>Worker threads per call; 0 (the default) uses <see cref="Environment.ProcessorCount"/>.</summary>
    public int ThreadCount { get; init; }

    /// <summary>
    /// The kernel variant; <see cref="CpuKernelVariant.Auto"/> (the default) honours
    /// <c>ATTENTION_NATIVE_CPU_VARIANT</c>, then picks the widest accelerated variant. Everything the backend computes
    /// runs in it: the attention kernels, the layers' projections (SGEMM and row projection), additive attention and the
    /// Half/BFloat16 conversions.
    /// </summary>
    public CpuKernelVariant Variant { get; init; }

    /// <summary>
    /// Whether tensors of 2 MiB and more ask Linux for transparent huge pages (<c>madvise(MADV_HUGEPAGE)</c>; the
    /// default <c>true</c>). A decoding step reads each K and V row once, and in a [B, L, H, D] cache each row of a head
    /// sits in its own 4 KiB page: with huge pages far fewer rows cost a page walk. The price is up to 2 MiB of address
    /// space per tensor (huge-page alignment) and, where the kernel's THP mode is <c>madvise</c> or <c>always</c>,
    /// memory committed in 2 MiB steps. Ignored elsewhere than Linux and where THP is off.
    /// </summary>
    public bool HugePages { get; init; } = true;
}
