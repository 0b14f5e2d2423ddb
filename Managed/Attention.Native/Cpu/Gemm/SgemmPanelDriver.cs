using Attention.Native.Cpu.Simd;

namespace Attention.Native.Cpu.Gemm;

/// <summary>
/// SGEMM on a B packed ahead (<see cref="PackedPanel"/>): packing a panel with the work split among the threads, and
/// the product on it, whose blocks of C (rows, and columns too when rows are few) the threads take in turn. Nothing
/// of B is packed twice: a weight packed once (<see cref="SgemmPackedB"/>) is never packed again, and a product
/// of several threads packs each B panel once for all of them (<see cref="SgemmDriver{TOps, TVec}"/>).
/// </summary>
internal static unsafe class SgemmPanelDriver<TOps, TVec>
    where TOps : ISimd<TVec>
    where TVec : unmanaged
{
    private const int MR = SgemmBlocking.MR;
    private const int KC = SgemmBlocking.KC;
    private const int MC = SgemmBlocking.MC;

    /// <summary>Slivers per packing work item: 8 slivers of one slice are 128 KB (AVX2), enough to outweigh taking the item.</summary>
    private const int SliversPerItem = 8;

    /// <summary>Packs op(B)'s columns <c>[j0, j0 + panel.Columns)</c>, depths <c>[0, panel.Depth)</c>, into <paramref name="panel"/>.</summary>
    public static void Pack<T>(T* b, nint ldb, bool transposed, int j0, PackedPanel panel, int threads)
        where T : unmanaged
    {
        int nr = 2 * TOps.Width;
        int slices = (panel.Depth + KC - 1) / KC;
        int groupColumns = SliversPerItem * nr;
        int groups = (panel.Columns + groupColumns - 1) / groupColumns;
        int items = slices * groups;
        int workers = Math.Clamp(threads, 1, Math.Max(items, 1));
        // Half/BFloat16 columns of a transposed B are widened into a worker's staging first (SgemmPacking.PackB).
        nuint stagingFloats = typeof(T) == typeof(float) ? 0 : (nuint)nr * KC;
        using var staging = new AlignedMemoryHandle((nuint)workers * stagingFloats * sizeof(float), zero: false);
        float* stage = (float*)staging.Pointer;
        CpuParallel.For(items, workers, (item, worker) =>
        {
            int pc = item / groups * KC;
            int jc = item % groups * groupColumns;
            SgemmPacking<TOps, TVec>.PackB(
                b, ldb, transposed, pc, Math.Min(KC, panel.Depth - pc), j0 + jc, Math.Min(groupColumns, panel.Columns - jc),
                panel.At(pc, jc), stagingFloats == 0 ? null : stage + ((nuint)worker * stagingFloats));
        });
    }

    /// <summary>
    /// <c>C[:, 0, panel.Columns) = α·op(A)·panel + β·C</c> for <paramref name="call"/>'s A, C (whose first column is
    /// the panel's first), α and β; its B is not read. Depth is <c>panel.Depth</c> (= <c>call.K</c>).
    /// </summary>
    public static void Multiply<T>(SgemmCall<T> call, PackedPanel panel, int threads)
        where T : unmanaged
    {
        int nr = 2 * TOps.Width;
        int m = call.M, n = panel.Columns;
        threads = Math.Max(threads, 1);

        // Blocks of C: rows in multiples of the tile's height, at most MC (the packed A block that stays in L2); about
        // two per thread so that a thread slowed by other work leaves the rest to the others. Where rows are too few
        // for that, the columns are cut too: each such block packs its rows of A again, a k × 6 sliver per tile row.
        int rowStep = threads == 1 ? MC : Math.Clamp(RoundUp((m + (2 * threads) - 1) / (2 * threads), MR), MR, MC);
        int rowBlocks = (m + rowStep - 1) / rowStep;
        int columnTiles = (n + nr - 1) / nr;
        int columnBlocks = rowBlocks >= 2 * threads ? 1 : Math.Min(columnTiles, ((2 * threads) + rowBlocks - 1) / rowBlocks);
        int columnStep = (columnTiles + columnBlocks - 1) / columnBlocks * nr;
        columnBlocks = (n + columnStep - 1) / columnStep;
        int items = rowBlocks * columnBlocks;
        int workers = Math.Clamp(threads, 1, items);

        int kcMax = Math.Min(KC, panel.Depth);
        int mcMax = RoundUp(Math.Min(rowStep, m), MR);
        // The packing's vector stores run up to 2 floats past a sliver (SgemmPacking.PackA); Half/BFloat16 rows of A
        // are widened into the staging part first.
        nuint blockFloats = ((nuint)mcMax * (nuint)kcMax) + 16;
        nuint stagingFloats = typeof(T) == typeof(float) ? 0 : (nuint)MR * (nuint)kcMax;
        // Each worker's part starts on a cache line of its own.
        nuint workerFloats = (blockFloats + stagingFloats + 15) / 16 * 16;
        using var scratch = new AlignedMemoryHandle((nuint)workers * workerFloats * sizeof(float), zero: false);
        float* scratchBase = (float*)scratch.Pointer;
        // Plain float A of at most one block of rows is read in place: packing it costs a few percent of the multiplies
        // when the panel is a weight of a few hundred columns, and so few rows stay in cache for every column sliver.
        // Taller A is packed: its blocks come from further out, and one sequential packing pass fetches them faster
        // than six rows read side by side (MiniLM's GEMMs, 1 thread, Zen 3: m = 16 and 128 1-6 % faster in place,
        // m = 512 and 2048 1-2 % slower).
        bool direct = typeof(T) == typeof(float) && !call.TransposeA && m <= MC;
        CpuParallel.For(items, workers, (item, worker) =>
        {
            float* pa = scratchBase + ((nuint)worker * workerFloats);
            float* stage = stagingFloats == 0 ? null : pa + blockFloats;
            int ic = item / columnBlocks * rowStep, jc = item % columnBlocks * columnStep;
            int mc = Math.Min(rowStep, m - ic), nc = Math.Min(columnStep, n - jc);
            for (int pc = 0; pc < panel.Depth; pc += KC)
            {
                int kc = Math.Min(KC, panel.Depth - pc);
                if (direct)
                {
                    float* rows = (float*)call.A + (ic * call.Lda) + pc;
                    SgemmDriver<TOps, TVec>.MacroKernel<T, SgemmASliver.Direct>(
                        call, ic, mc, jc, nc, kc, rows, call.Lda, panel.At(pc, jc), pc == 0 ? call.Beta : 1f);
                    continue;
                }

                SgemmPacking<TOps, TVec>.PackA(call.A, call.Lda, call.TransposeA, ic, mc, pc, kc, pa, stage);
                // Later slices add to what the first left in C.
                SgemmDriver<TOps, TVec>.MacroKernel(call, ic, mc, jc, nc, kc, pa, panel.At(pc, jc), pc == 0 ? call.Beta : 1f);
            }
        });
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;
}
