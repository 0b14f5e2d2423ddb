namespace Attention.Native.Cpu.Gemm;

/// <summary>
/// The rows of C a register tile computes (1 to <see cref="SgemmBlocking.MR"/>), as a type: each row count gets its
/// own copy of <see cref="SgemmMicroKernel{TOps, TVec}.Tile{TRows, TA}"/>, with the count a constant the JIT folds.
/// </summary>
internal interface ISgemmTileRows
{
    static abstract int Count { get; }
}

/// <summary>The row counts of <see cref="ISgemmTileRows"/>.</summary>
internal static class SgemmTileRows
{
    public readonly struct One : ISgemmTileRows
    {
        public static int Count => 1;
    }

    public readonly struct Two : ISgemmTileRows
    {
        public static int Count => 2;
    }

    public readonly struct Three : ISgemmTileRows
    {
        public static int Count => 3;
    }

    public readonly struct Four : ISgemmTileRows
    {
        public static int Count => 4;
    }

    public readonly struct Five : ISgemmTileRows
    {
        public static int Count => 5;
    }

    public readonly struct Six : ISgemmTileRows
    {
        public static int Count => SgemmBlocking.MR;
    }
}

/// <summary>
/// How a register tile reads its rows of A: from a packed sliver (<c>[k][6]</c>) or from A itself, row-major with its
/// leading dimension. Each is a copy of <see cref="SgemmMicroKernel{TOps, TVec}.Tile{TRows, TA}"/> with its offsets
/// folded or hoisted by the JIT.
/// </summary>
internal interface ISgemmASliver
{
    /// <summary>Floats between a depth's elements of A and of the next depth.</summary>
    static abstract int Step { get; }

    /// <summary>Offset of row <paramref name="row"/>'s element from row 0's, for A's leading dimension <paramref name="lda"/>.</summary>
    static abstract nint Row(int row, nint lda);
}

/// <summary>The two ways of <see cref="ISgemmASliver"/>.</summary>
internal static class SgemmASliver
{
    /// <summary>A packed sliver: a depth's six values adjacent.</summary>
    public readonly struct Packed : ISgemmASliver
    {
        public static int Step => SgemmBlocking.MR;

        public static nint Row(int row, nint lda) => row;
    }

    /// <summary>
    /// A's own rows (plain float A): no packing, which a product of few rows pays for as much as for its multiplies
    /// by a weight of few columns; a depth's values are a row apart, each row read in order.
    /// </summary>
    public readonly struct Direct : ISgemmASliver
    {
        public static int Step => 1;

        public static nint Row(int row, nint lda) => row * lda;
    }
}
