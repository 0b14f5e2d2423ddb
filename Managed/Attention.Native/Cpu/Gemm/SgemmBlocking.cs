namespace Attention.Native.Cpu.Gemm;

/// <summary>
/// The cache blocking of <see cref="CpuSgemm"/>, sized for Zen 3 (32 KB L1d, 512 KB L2 per core, a shared L3) and
/// right for most x64 cores of the last decade. The register tile is <see cref="MR"/> × 2 vectors (6 × 16 on AVX2).
/// </summary>
internal static class SgemmBlocking
{
    /// <summary>
    /// Rows of the register tile. Six rows × two vectors is 12 accumulators: 2 FMA pipes × 4-cycle latency need at
    /// least 8 independent chains, and 12 + 2 B vectors + 1 broadcast still fit AVX2's 16 registers without spills.
    /// </summary>
    public const int MR = 6;

    /// <summary>
    /// Depth of one packed block. An A sliver (6 × 256 × 4 B = 6 KB) and a B sliver (256 × 16 × 4 B = 16 KB) fit
    /// the 32 KB L1d together, so the inner loop's loads hit L1; deeper would evict the B sliver between A slivers,
    /// shallower would pay the C tile's load and store (the micro-kernel's fixed cost) more often.
    /// </summary>
    public const int KC = 256;

    /// <summary>
    /// Rows of a packed A block: 168 × 256 × 4 B = 168 KB, a third of the 512 KB L2, leaving room for the B sliver
    /// and C tiles streaming through it. A multiple of <see cref="MR"/>.
    /// </summary>
    public const int MC = 168;

    /// <summary>
    /// Columns of a packed B panel: 256 × 4096 × 4 B = 4 MB, in L3 (shared by the cores), read once per A block.
    /// A multiple of every width's NR (2, 8, 16, 32); the attention layer's N (512, 1536) fits in one panel.
    /// </summary>
    public const int NC = 4096;
}
