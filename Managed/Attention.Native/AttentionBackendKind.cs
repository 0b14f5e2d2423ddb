namespace Attention.Native;

/// <summary>Which backend computes attention.</summary>
public enum AttentionBackendKind
{
    /// <summary>The fastest backend present: CUDA where a usable GPU is found, otherwise the CPU.</summary>
    Auto,

    /// <summary>The SIMD CPU backend (always present).</summary>
    Cpu,

    /// <summary>The CUDA backend (needs an NVIDIA driver and GPU).</summary>
    Cuda,
}
