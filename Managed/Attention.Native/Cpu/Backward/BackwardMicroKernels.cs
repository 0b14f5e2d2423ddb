using System.Runtime.CompilerServices;
using Attention.Native.Cpu.Simd;

namespace Attention.Native.Cpu.Backward;

/// <summary>
/// The register-tiled loop the backward adds to the forward's (<see cref="Tiled.TileMicroKernels{TOps, TVec}"/>):
/// <c>dV += Pᵀ·dO</c> and <c>dK += dSᵀ·Q</c>, whose left operand is the transposed score block <c>[key][row]</c> the
/// forward's loops produce and whose right operand is row-major query or output-gradient rows. A key's accumulator
/// row is a run of vectors along the head dim; 6 keys × 2 vectors (12 accumulators) give enough independent FMAs to
/// cover FMA latency on two pipes and leave registers for the operands on a 16-register ISA.
/// </summary>
internal static unsafe class BackwardMicroKernels<TOps, TVec>
    where TOps : ISimd<TVec>
    where TVec : unmanaged
{
    /// <summary>
    /// <c>output[j·outputStride + c] += Σ_{r &lt; rows} scores[j·2W + r]·rowsOperand[r·rowStride + c]</c> for
    /// <paramref name="keys"/> keys and <c>c &lt; width</c>.
    /// </summary>
    /// <param name="output">The first key's accumulator row.</param>
    /// <param name="outputStride">Floats between accumulator rows.</param>
    /// <param name="scores">Transposed block <c>[keys][2·W]</c>.</param>
    /// <param name="keys">Number of keys.</param>
    /// <param name="rowsOperand">Row-major <c>[rows][rowStride]</c> operand.</param>
    /// <param name="rowStride">Floats between its rows.</param>
    /// <param name="rows">Rows to sum over (at most 2·W).</param>
    /// <param name="width">Columns, a multiple of W.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AccumulateTransposed(
        float* output, long outputStride, float* scores, int keys, float* rowsOperand, long rowStride, int rows, int width)
    {
        int w = TOps.Width;
        int tileRows = 2 * w;
        int j = 0;
        for (; j + 6 <= keys; j += 6)
        {
            float* s0 = scores + (j * tileRows);
            float* o0 = output + (j * outputStride);
            int c = 0;
            for (; c + (2 * w) <= width; c += 2 * w)
            {
                float* o = o0 + c;
                TVec a00 = TOps.Load(o), a01 = TOps.Load(o + w);
                TVec a10 = TOps.Load(o + outputStride), a11 = TOps.Load(o + outputStride + w);
                TVec a20 = TOps.Load(o + (2 * outputStride)), a21 = TOps.Load(o + (2 * outputStride) + w);
                TVec a30 = TOps.Load(o + (3 * outputStride)), a31 = TOps.Load(o + (3 * outputStride) + w);
                TVec a40 = TOps.Load(o + (4 * outputStride)), a41 = TOps.Load(o + (4 * outputStride) + w);
                TVec a50 = TOps.Load(o + (5 * outputStride)), a51 = TOps.Load(o + (5 * outputStride) + w);
                float* b = rowsOperand + c;
                for (int r = 0; r < rows; r++, b += rowStride)
                {
                    TVec b0 = TOps.Load(b);
                    TVec b1 = TOps.Load(b + w);
                    TVec x = TOps.Broadcast(s0[r]);
                    a00 = TOps.MultiplyAdd(x, b0, a00);
                    a01 = TOps.MultiplyAdd(x, b1, a01);
                    x = TOps.Broadcast(s0[tileRows + r]);
                    a10 = TOps.MultiplyAdd(x, b0, a10);
                    a11 = TOps.MultiplyAdd(x, b1, a11);
                    x = TOps.Broadcast(s0[(2 * tileRows) + r]);
                    a20 = TOps.MultiplyAdd(x, b0, a20);
                    a21 = TOps.MultiplyAdd(x, b1, a21);
                    x = TOps.Broadcast(s0[(3 * tileRows) + r]);
                    a30 = TOps.MultiplyAdd(x, b0, a30);
                    a31 = TOps.MultiplyAdd(x, b1, a31);
                    x = TOps.Broadcast(s0[(4 * tileRows) + r]);
                    a40 = TOps.MultiplyAdd(x, b0, a40);
                    a41 = TOps.MultiplyAdd(x, b1, a41);
                    x = TOps.Broadcast(s0[(5 * tileRows) + r]);
                    a50 = TOps.MultiplyAdd(x, b0, a50);
                    a51 = TOps.MultiplyAdd(x, b1, a51);
                }

                TOps.Store(o, a00);
                TOps.Store(o + w, a01);
                TOps.Store(o + outputStride, a10);
                TOps.Store(o + outputStride + w, a11);
                TOps.Store(o + (2 * outputStride), a20);
                TOps.Store(o + (2 * outputStride) + w, a21);
                TOps.Store(o + (3 * outputStride), a30);
                TOps.Store(o + (3 * outputStride) + w, a31);
                TOps.Store(o + (4 * outputStride), a40);
                TOps.Store(o + (4 * outputStride) + w, a41);
                TOps.Store(o + (5 * outputStride), a50);
                TOps.Store(o + (5 * outputStride) + w, a51);
            }

            for (; c < width; c += w)
            {
                float* o = o0 + c;
                TVec a0 = TOps.Load(o), a1 = TOps.Load(o + outputStride), a2 = TOps.Load(o + (2 * outputStride));
                TVec a3 = TOps.Load(o + (3 * outputStride)), a4 = TOps.Load(o + (4 * outputStride));
                TVec a5 = TOps.Load(o + (5 * outputStride));
                float* b = rowsOperand + c;
                for (int r = 0; r < rows; r++, b += rowStride)
                {
                    TVec b0 = TOps.Load(b);
                    a0 = TOps.MultiplyAdd(TOps.Broadcast(s0[r]), b0, a0);
                    a1 = TOps.MultiplyAdd(TOps.Broadcast(s0[tileRows + r]), b0, a1);
                    a2 = TOps.MultiplyAdd(TOps.Broadcast(s0[(2 * tileRows) + r]), b0, a2);
                    a3 = TOps.MultiplyAdd(TOps.Broadcast(s0[(3 * tileRows) + r]), b0, a3);
                    a4 = TOps.MultiplyAdd(TOps.Broadcast(s0[(4 * tileRows) + r]), b0, a4);
                    a5 = TOps.MultiplyAdd(TOps.Broadcast(s0[(5 * tileRows) + r]), b0, a5);
                }

                TOps.Store(o, a0);
                TOps.Store(o + outputStride, a1);
                TOps.Store(o + (2 * outputStride), a2);
                TOps.Store(o + (3 * outputStride), a3);
                TOps.Store(o + (4 * outputStride), a4);
                TOps.Store(o + (5 * outputStride), a5);
            }
        }

        for (; j < keys; j++)
        {
            float* s0 = scores + (j * tileRows);
            float* o0 = output + (j * outputStride);
            int c = 0;
            for (; c + (4 * w) <= width; c += 4 * w)
            {
                float* o = o0 + c;
                TVec a0 = TOps.Load(o), a1 = TOps.Load(o + w), a2 = TOps.Load(o + (2 * w)), a3 = TOps.Load(o + (3 * w));
                float* b = rowsOperand + c;
                for (int r = 0; r < rows; r++, b += rowStride)
                {
                    TVec x = TOps.Broadcast(s0[r]);
                    a0 = TOps.MultiplyAdd(x, TOps.Load(b), a0);
                    a1 = TOps.MultiplyAdd(x, TOps.Load(b + w), a1);
                    a2 = TOps.MultiplyAdd(x, TOps.Load(b + (2 * w)), a2);
                    a3 = TOps.MultiplyAdd(x, TOps.Load(b + (3 * w)), a3);
                }

                TOps.Store(o, a0);
                TOps.Store(o + w, a1);
                TOps.Store(o + (2 * w), a2);
                TOps.Store(o + (3 * w), a3);
            }

            for (; c < width; c += w)
            {
                float* o = o0 + c;
                TVec a0 = TOps.Load(o);
                float* b = rowsOperand + c;
                for (int r = 0; r < rows; r++, b += rowStride)
                {
                    a0 = TOps.MultiplyAdd(TOps.Broadcast(s0[r]), TOps.Load(b), a0);
                }

                TOps.Store(o, a0);
            }
        }
    }
}
