namespace Attention.Native.Cpu.Simd;

/// <summary>The CPU operations whose variant <see cref="CpuIsaObserver"/> records.</summary>
internal enum CpuOperation
{
    /// <summary>The tiled attention kernel.</summary>
    TiledAttention,

    /// <summary>The decode attention kernel.</summary>
    DecodeAttention,

    /// <summary>The SGEMM (the layers' projections of more than four rows).</summary>
    Sgemm,

    /// <summary>The row projection (the layers' projections of up to four rows).</summary>
    RowProjection,

    /// <summary>The additive-attention kernel.</summary>
    AdditiveAttention,

    /// <summary>A float ⇄ Half/BFloat16 conversion, on its own or inside another operation.</summary>
    Conversion,

    /// <summary>The attention backward kernel.</summary>
    AttentionBackward,
}
