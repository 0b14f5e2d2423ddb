namespace Attention.Native.Cpu.Gemm;

/// <summary>
/// The rows of C a register tile computes (1 to <see cref="SgemmBlocking.MR"/>), as a type: each row count gets its
/// own copy of <see cref="SgemmMicroKernel{TOps, TVec}.Tile{TRows}"/>, with the count a constant the JIT folds.
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
