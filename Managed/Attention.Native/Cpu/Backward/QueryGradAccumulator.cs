using System.Runtime.CompilerServices;
using Attention.Native.Cpu.Simd;
using Attention.Native.Validation;

namespace Attention.Native.Cpu.Backward;

/// <summary>
/// <c>dQ</c> in float while the backward runs: one transposed row tile <c>[D][2·W]</c> per (batch, query head, query
/// tile), the layout <see cref="Tiled.TileMicroKernels{TOps, TVec}.Accumulate"/> produces, and a spin lock per tile.
/// Work items own key blocks, so several add into the same query tile; each adds its whole contribution to a tile at
/// once under the tile's lock (FlashAttention-2 adds with fp32 atomics instead), which holds the lock for
/// <c>D·2W</c> adds against the <c>≈ 10·2W·keys·D</c> FLOPs that produced them.
/// </summary>
internal readonly unsafe struct QueryGradAccumulator<TOps, TVec>
    where TOps : ISimd<TVec>
    where TVec : unmanaged
{
    private readonly float* tiles;
    private readonly int* locks;
    private readonly int queryTiles;
    private readonly int tileFloats;

    /// <param name="problem">The problem.</param>
    /// <param name="tiles">Zeroed, <see cref="Floats"/> floats.</param>
    /// <param name="locks">Zeroed, <see cref="Locks"/> ints.</param>
    public QueryGradAccumulator(AttentionProblem problem, float* tiles, int* locks)
    {
        this.tiles = tiles;
        this.locks = locks;
        queryTiles = QueryTiles(problem);
        tileFloats = problem.HeadDim * TileRows;
    }

    private static int TileRows => 2 * TOps.Width;

    /// <summary>Query tiles per (batch, head).</summary>
    public static int QueryTiles(AttentionProblem problem) => (problem.QueryLength + TileRows - 1) / TileRows;

    /// <summary>Floats of the accumulated tiles.</summary>
    public static long Floats(AttentionProblem problem) =>
        (long)problem.Batch * problem.QueryHeads * QueryTiles(problem) * problem.HeadDim * TileRows;

    /// <summary>Locks, one per tile.</summary>
    public static long Locks(AttentionProblem problem) => (long)problem.Batch * problem.QueryHeads * QueryTiles(problem);

    /// <summary>The accumulated tile of (<paramref name="batch"/>, <paramref name="head"/>, <paramref name="tile"/>).</summary>
    public float* Tile(AttentionProblem problem, int batch, int head, int tile) =>
        tiles + ((((((long)batch * problem.QueryHeads) + head) * queryTiles) + tile) * tileFloats);

    /// <summary>Adds a transposed tile <paramref name="contribution"/> to the accumulated one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(AttentionProblem problem, int batch, int head, int tile, float* contribution)
    {
        long index = ((((long)batch * problem.QueryHeads) + head) * queryTiles) + tile;
        float* target = tiles + (index * tileFloats);
        ref int gate = ref locks[index];
        if (Interlocked.CompareExchange(ref gate, 1, 0) != 0)
        {
            var spin = default(SpinWait);
            while (Interlocked.CompareExchange(ref gate, 1, 0) != 0)
            {
                spin.SpinOnce();
            }
        }

        for (int i = 0; i < tileFloats; i += TOps.Width)
        {
            TOps.Store(target + i, TOps.Add(TOps.Load(target + i), TOps.Load(contribution + i)));
        }

        Volatile.Write(ref gate, 0);
    }
}
