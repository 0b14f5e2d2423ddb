using Attention.Native.Cpu.Decode;
using Attention.Native.Cpu.Simd;

namespace Attention.Native.Cpu.Gemm;

/// <summary>
/// <c>Y = X·Wᵀ + bias</c> for up to four rows of X (a decoding step's projections): a matrix-vector product, bound by
/// reading W once. The SGEMM would pack all of W first (reading it, writing a copy, reading that) and pad the rows to
/// its six-row tile; here each W row is read once, start to end, by the decode kernel's four-row dot products
/// (<see cref="DecodeBlockSteps{TOps, TVec}.ScoreBlock"/>: W's rows play the keys, X's the queries, rows paired half a
/// block apart so W streams as two sequential reads). Half and BFloat16 weights are widened a block of rows at a time
/// into the worker's scratch, so they cost half the reading of float.
/// </summary>
internal static unsafe class RowProjection
{
    /// <summary>Most rows of X one call takes (the four-row tile).</summary>
    public const int MaxRows = 4;

    /// <summary>W rows per work item: 64 rows of 1024 floats (256 KB widened) stay in L2 while the tile reads them.</summary>
    private const int BlockRows = 64;

    /// <summary>
    /// <c>y[r·ldy + o] = Σ_i x[r·ldx + i]·weight[o·inFeatures + i] + bias[o]</c> for <c>r &lt; rows ≤ 4</c>,
    /// <c>o &lt; outFeatures</c>, accumulated in float and rounded to <typeparamref name="T"/> once.
    /// </summary>
    /// <param name="variant">The kernel variant (<see cref="CpuKernelVariant.Auto"/>: as <see cref="CpuIsa.Resolve"/> picks it).</param>
    /// <param name="x">X, <paramref name="rows"/> rows of <paramref name="inFeatures"/> with row stride <paramref name="ldx"/>.</param>
    /// <param name="ldx">Row stride of X.</param>
    /// <param name="rows">Rows of X, 1 to <see cref="MaxRows"/>.</param>
    /// <param name="inFeatures">Columns of X and W.</param>
    /// <param name="weight">W, <c>[outFeatures, inFeatures]</c>, rows packed.</param>
    /// <param name="bias">The bias (<paramref name="outFeatures"/> values), or null.</param>
    /// <param name="outFeatures">Rows of W, columns of Y.</param>
    /// <param name="y">Y, row stride <paramref name="ldy"/>; only its <paramref name="outFeatures"/> first columns are written.</param>
    /// <param name="ldy">Row stride of Y.</param>
    /// <param name="threads">Workers.</param>
    public static void Run<T>(
        CpuKernelVariant variant, T* x, int ldx, int rows, int inFeatures, T* weight, T* bias, int outFeatures, T* y, int ldy, int threads)
        where T : unmanaged
    {
        var kernel = new Kernel<T>(x, ldx, rows, inFeatures, weight, bias, outFeatures, y, ldy, threads);
        CpuIsa.Dispatch(variant, ref kernel);
    }

    private static void Run<T, TOps, TVec>(
        T* x, int ldx, int rows, int inFeatures, T* weight, T* bias, int outFeatures, T* y, int ldy, int threads)
        where T : unmanaged
        where TOps : ISimd<TVec>
        where TVec : unmanaged
    {
        CpuIsaObserver.Ran<TOps, TVec>(CpuOperation.RowProjection);
        int blocks = (outFeatures + BlockRows - 1) / BlockRows;
        int workers = Math.Clamp(threads, 1, blocks);
        bool widens = typeof(T) != typeof(float);
        // Per worker: the four-row score block and, for Half/BFloat16, a block of widened W rows.
        // The block loop writes row r's scores KeyBlock floats apart (a W block is at most that many rows).
        int scoreStride = DecodeBlockSteps<TOps, TVec>.KeyBlock;
        long workerFloats = (MaxRows * scoreStride) + (widens ? (long)BlockRows * inFeatures : 0);
        long queryFloats = (long)MaxRows * inFeatures;
        using var scratch = new AlignedMemoryHandle((nuint)(queryFloats + (workers * workerFloats)) * sizeof(float), zero: false);
        float* queries = (float*)scratch.Pointer;
        // X's rows widened and packed; the rows past `rows` are zeros (their dot products are computed and dropped).
        for (int r = 0; r < MaxRows; r++)
        {
            float* target = queries + ((long)r * inFeatures);
            if (r < rows)
            {
                HalfPrecisionConversions<TOps, TVec>.Widen(x + ((long)r * ldx), target, inFeatures);
            }
            else
            {
                new Span<float>(target, inFeatures).Clear();
            }
        }

        float* workerBase = queries + queryFloats;
        // X's rows (padded to four) play the decode kernel's query rows; no values are weighed.
        var tiles = new DecodeBlockSteps<TOps, TVec>(queries, inFeatures, 0, MaxRows, null);
        CpuParallel.For(blocks, workers, (block, worker) =>
        {
            float* state = workerBase + (worker * workerFloats);
            float* scores = state;
            int first = block * BlockRows;
            int count = Math.Min(BlockRows, outFeatures - first);
            T* source = weight + ((long)first * inFeatures);
            if (widens)
            {
                float* wide = state + (MaxRows * scoreStride);
                HalfPrecisionConversions<TOps, TVec>.Widen(source, wide, count * inFeatures);
                tiles.ScoreBlock(wide, inFeatures, count, scores);
            }
            else
            {
                tiles.ScoreBlock((float*)source, inFeatures, count, scores);
            }

            for (int r = 0; r < rows; r++)
            {
                float* row = scores + (r * scoreStride);
                if (bias is not null)
                {
                    for (int j = 0; j < count; j++)
                    {
                        row[j] += ElementType.ToSingle(bias[first + j]);
                    }
                }

                HalfPrecisionConversions<TOps, TVec>.Narrow(row, y + ((long)r * ldy) + first, count);
            }
        });
    }

    private readonly struct Kernel<T>(
        T* x, int ldx, int rows, int inFeatures, T* weight, T* bias, int outFeatures, T* y, int ldy, int threads) : ISimdKernel
        where T : unmanaged
    {
        public void Run<TOps, TVec>()
            where TOps : ISimd<TVec>
            where TVec : unmanaged => RowProjection.Run<T, TOps, TVec>(x, ldx, rows, inFeatures, weight, bias, outFeatures, y, ldy, threads);
    }
}
