namespace Attention.Native.Cpu.Gemm;

/// <summary>
/// How the threads share C: a part per thread (two where rows abound), cut across the rows in multiples of the
/// register tile's height, or across the columns (in multiples of its width) when there are too few rows to go round.
/// Parts are whole multiples of the tile, so only the matrix edge ever takes the edge tile.
/// </summary>
internal readonly record struct SgemmPartition(int M, int N, int Count, bool ByRows, int Step)
{
    /// <summary>
    /// Rows below which parts are not halved: each part packs the whole B slice it uses, which costs about as much as
    /// 16 of its rows' FMAs, so at 384 rows a part spends a few percent of its time packing.
    /// </summary>
    public const int MinimumRowsPerPart = 384;

    public static SgemmPartition Create(int m, int n, int threads, int mr, int nr)
    {
        threads = threads <= 0 ? Environment.ProcessorCount : threads;
        int rowTiles = (m + mr - 1) / mr;
        int columnTiles = (n + nr - 1) / nr;
        bool byRows = rowTiles >= threads || rowTiles >= columnTiles;
        int tiles = byRows ? rowTiles : columnTiles;
        int count = Math.Clamp(threads, 1, tiles);

        // Two parts per thread where each still has many rows: a thread slowed by other work on its core then
        // leaves its second part to a faster one.
        if (byRows && count > 1 && rowTiles / (2 * count) * mr >= MinimumRowsPerPart)
        {
            count *= 2;
        }

        int step = (tiles + count - 1) / count * (byRows ? mr : nr);
        int extent = byRows ? m : n;
        return new SgemmPartition(m, n, (extent + step - 1) / step, byRows, step);
    }

    /// <summary>Rows <c>[m0, m1)</c> and columns <c>[n0, n1)</c> of part <paramref name="part"/>.</summary>
    public (int M0, int M1, int N0, int N1) Range(int part)
    {
        int start = part * Step;
        return ByRows ? (start, Math.Min(M, start + Step), 0, N) : (0, M, start, Math.Min(N, start + Step));
    }
}
