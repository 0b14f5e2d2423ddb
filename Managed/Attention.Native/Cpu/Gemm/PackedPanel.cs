namespace Attention.Native.Cpu.Gemm;

/// <summary>
/// op(B) packed for the micro-kernel, all depths of a block of columns: for each KC-deep slice, the NR-wide slivers
/// side by side (<c>[kc][NR]</c> each, the last padded with zeros), the slices one after another. Slice <c>pc</c>
/// starts <c>pc · PaddedColumns</c> floats in, since each slice before it is KC deep; within a slice, column
/// <c>jc</c> (a multiple of NR) starts <c>jc · kc</c> floats in. Any run of whole slivers of a slice is thus the
/// block <see cref="SgemmPacking{TOps, TVec}.PackB"/> writes for those columns.
/// </summary>
internal readonly unsafe struct PackedPanel(float* data, int depth, int columns, int nr)
{
    public float* Data { get; } = data;

    /// <summary>K: the depths packed.</summary>
    public int Depth { get; } = depth;

    /// <summary>The columns packed.</summary>
    public int Columns { get; } = columns;

    /// <summary>Width of a sliver: the register tile's 2W columns of the variant that packed it.</summary>
    public int NR { get; } = nr;

    public int PaddedColumns => RoundUp(Columns, NR);

    /// <summary>Floats a panel of <paramref name="depth"/> × <paramref name="columns"/> takes.</summary>
    public static long Floats(int depth, int columns, int nr) => (long)depth * RoundUp(columns, nr);

    /// <summary>The slivers from column <paramref name="jc"/> (a multiple of NR) of the slice at depth <paramref name="pc"/> (a multiple of KC).</summary>
    public float* At(int pc, int jc) => Data + ((long)pc * PaddedColumns) + ((long)jc * Math.Min(SgemmBlocking.KC, Depth - pc));

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;
}
