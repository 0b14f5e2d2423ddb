namespace Attention.Native.Cpu;

/// <summary>
/// The instruction-set variant of the CPU kernels. <see cref="Auto"/> picks the widest accelerated one; the
/// environment variable <c>ATTENTION_NATIVE_CPU_VARIANT</c> (a name below) forces one, as do
/// <see cref="CpuBackendOptions.Variant"/> and the runtime's own <c>DOTNET_EnableAVX512F=0</c>-style switches.
/// </summary>
/// <remarks>A forced variant the hardware lacks still computes correct results, emulated and slowly: for tests.</remarks>
public enum CpuKernelVariant
{
    /// <summary>The widest accelerated variant.</summary>
    Auto,

    /// <summary>512-bit vectors (AVX-512F).</summary>
    Vector512,

    /// <summary>256-bit vectors (AVX2 + FMA).</summary>
    Vector256,

    /// <summary>128-bit vectors (SSE / Arm AdvSimd).</summary>
    Vector128,

    /// <summary>No SIMD: one float at a time.</summary>
    Scalar,
}
