using System.Runtime.CompilerServices;
using Attention.Native.Cpu.Simd;

namespace Attention.Native.Cpu.Tiled;

/// <summary>
/// The register-tiled FMA loops of the tiled kernel. A row tile is two vectors of query rows (2·W rows); scores and
/// outputs are kept transposed (<c>[key][row]</c>, <c>[column][row]</c>) so that the softmax's row reductions are
/// lane-wise and K and V are read in place, one broadcast element at a time, with no packing or transposition.
/// Each loop holds 6 × 2 accumulators: enough independent FMAs to cover FMA latency on two pipes, few enough to
/// leave registers for the operands on a 16-register ISA. Remainders take a 4 × 2 tile, then single columns: a
/// single-column pass has only two dependency chains and runs at a fifth of the FMA rate, so the 4-wide step
/// matters (D = 64 leaves 4 columns; they cost a third of the P·V time when done one by one).
/// </summary>
internal static unsafe class TileMicroKernels<TOps, TVec>
    where TOps : ISimd<TVec>
    where TVec : unmanaged
{
    /// <summary><c>scores[j, r] = Σ_x qt[x, r]·key[j, x]</c> for <paramref name="keys"/> keys and one row tile.</summary>
    /// <param name="qt">The row tile's queries, transposed: <c>[dim][2·W]</c>.</param>
    /// <param name="key">The first key; key <c>j</c> starts <c>j·keyStride</c> further.</param>
    /// <param name="keyStride">Elements between keys.</param>
    /// <param name="keys">Number of keys.</param>
    /// <param name="dim">Head dimension.</param>
    /// <param name="scores">Output, <c>[keys][2·W]</c>.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scores(float* qt, float* key, long keyStride, int keys, int dim, float* scores)
    {
        int w = TOps.Width;
        int rows = 2 * w;
        int j = 0;
        for (; j + 6 <= keys; j += 6)
        {
            float* k0 = key + (j * keyStride);
            float* k1 = k0 + keyStride;
            float* k2 = k1 + keyStride;
            float* k3 = k2 + keyStride;
            float* k4 = k3 + keyStride;
            float* k5 = k4 + keyStride;
            TVec a00 = TOps.Zero, a01 = TOps.Zero, a10 = TOps.Zero, a11 = TOps.Zero, a20 = TOps.Zero, a21 = TOps.Zero;
            TVec a30 = TOps.Zero, a31 = TOps.Zero, a40 = TOps.Zero, a41 = TOps.Zero, a50 = TOps.Zero, a51 = TOps.Zero;
            float* q = qt;
            for (int x = 0; x < dim; x++, q += rows)
            {
                TVec q0 = TOps.Load(q);
                TVec q1 = TOps.Load(q + w);
                TVec b = TOps.Broadcast(k0[x]);
                a00 = TOps.MultiplyAdd(b, q0, a00);
                a01 = TOps.MultiplyAdd(b, q1, a01);
                b = TOps.Broadcast(k1[x]);
                a10 = TOps.MultiplyAdd(b, q0, a10);
                a11 = TOps.MultiplyAdd(b, q1, a11);
                b = TOps.Broadcast(k2[x]);
                a20 = TOps.MultiplyAdd(b, q0, a20);
                a21 = TOps.MultiplyAdd(b, q1, a21);
                b = TOps.Broadcast(k3[x]);
                a30 = TOps.MultiplyAdd(b, q0, a30);
                a31 = TOps.MultiplyAdd(b, q1, a31);
                b = TOps.Broadcast(k4[x]);
                a40 = TOps.MultiplyAdd(b, q0, a40);
                a41 = TOps.MultiplyAdd(b, q1, a41);
                b = TOps.Broadcast(k5[x]);
                a50 = TOps.MultiplyAdd(b, q0, a50);
                a51 = TOps.MultiplyAdd(b, q1, a51);
            }

            float* s = scores + (j * rows);
            TOps.Store(s, a00);
            TOps.Store(s + w, a01);
            TOps.Store(s + rows, a10);
            TOps.Store(s + rows + w, a11);
            TOps.Store(s + (2 * rows), a20);
            TOps.Store(s + (2 * rows) + w, a21);
            TOps.Store(s + (3 * rows), a30);
            TOps.Store(s + (3 * rows) + w, a31);
            TOps.Store(s + (4 * rows), a40);
            TOps.Store(s + (4 * rows) + w, a41);
            TOps.Store(s + (5 * rows), a50);
            TOps.Store(s + (5 * rows) + w, a51);
        }

        if (j + 4 <= keys)
        {
            float* k0 = key + (j * keyStride);
            float* k1 = k0 + keyStride;
            float* k2 = k1 + keyStride;
            float* k3 = k2 + keyStride;
            TVec a00 = TOps.Zero, a01 = TOps.Zero, a10 = TOps.Zero, a11 = TOps.Zero;
            TVec a20 = TOps.Zero, a21 = TOps.Zero, a30 = TOps.Zero, a31 = TOps.Zero;
            float* q = qt;
            for (int x = 0; x < dim; x++, q += rows)
            {
                TVec q0 = TOps.Load(q);
                TVec q1 = TOps.Load(q + w);
                TVec b = TOps.Broadcast(k0[x]);
                a00 = TOps.MultiplyAdd(b, q0, a00);
                a01 = TOps.MultiplyAdd(b, q1, a01);
                b = TOps.Broadcast(k1[x]);
                a10 = TOps.MultiplyAdd(b, q0, a10);
                a11 = TOps.MultiplyAdd(b, q1, a11);
                b = TOps.Broadcast(k2[x]);
                a20 = TOps.MultiplyAdd(b, q0, a20);
                a21 = TOps.MultiplyAdd(b, q1, a21);
                b = TOps.Broadcast(k3[x]);
                a30 = TOps.MultiplyAdd(b, q0, a30);
                a31 = TOps.MultiplyAdd(b, q1, a31);
            }

            float* s = scores + (j * rows);
            TOps.Store(s, a00);
            TOps.Store(s + w, a01);
            TOps.Store(s + rows, a10);
            TOps.Store(s + rows + w, a11);
            TOps.Store(s + (2 * rows), a20);
            TOps.Store(s + (2 * rows) + w, a21);
            TOps.Store(s + (3 * rows), a30);
            TOps.Store(s + (3 * rows) + w, a31);
            j += 4;
        }

        for (; j < keys; j++)
        {
            float* k0 = key + (j * keyStride);
            TVec a0 = TOps.Zero, a1 = TOps.Zero;
            float* q = qt;
            for (int x = 0; x < dim; x++, q += rows)
            {
                TVec b = TOps.Broadcast(k0[x]);
                a0 = TOps.MultiplyAdd(b, TOps.Load(q), a0);
                a1 = TOps.MultiplyAdd(b, TOps.Load(q + w), a1);
            }

            TOps.Store(scores + (j * rows), a0);
            TOps.Store(scores + (j * rows) + w, a1);
        }
    }

    /// <summary>
    /// <c>ot[c, r] = ot[c, r]·alpha[r] + Σ_j p[j, r]·value[j, c]</c>: the online-softmax rescale fused with
    /// <c>O += P·V</c> for one row tile.
    /// </summary>
    /// <param name="ot">The row tile's output accumulator, transposed: <c>[valueDim][2·W]</c>.</param>
    /// <param name="p">Probabilities, <c>[keys][2·W]</c>.</param>
    /// <param name="value">The first value row; row <c>j</c> starts <c>j·valueStride</c> further.</param>
    /// <param name="valueStride">Elements between value rows.</param>
    /// <param name="keys">Number of keys.</param>
    /// <param name="valueDim">Value head dimension.</param>
    /// <param name="alpha">Per-row rescale factors, <c>[2·W]</c>.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Accumulate(float* ot, float* p, float* value, long valueStride, int keys, int valueDim, float* alpha)
    {
        int w = TOps.Width;
        int rows = 2 * w;
        TVec al0 = TOps.Load(alpha);
        TVec al1 = TOps.Load(alpha + w);
        int c = 0;
        for (; c + 6 <= valueDim; c += 6)
        {
            float* o = ot + (c * rows);
            TVec a00 = TOps.Multiply(TOps.Load(o), al0), a01 = TOps.Multiply(TOps.Load(o + w), al1);
            TVec a10 = TOps.Multiply(TOps.Load(o + rows), al0), a11 = TOps.Multiply(TOps.Load(o + rows + w), al1);
            TVec a20 = TOps.Multiply(TOps.Load(o + (2 * rows)), al0), a21 = TOps.Multiply(TOps.Load(o + (2 * rows) + w), al1);
            TVec a30 = TOps.Multiply(TOps.Load(o + (3 * rows)), al0), a31 = TOps.Multiply(TOps.Load(o + (3 * rows) + w), al1);
            TVec a40 = TOps.Multiply(TOps.Load(o + (4 * rows)), al0), a41 = TOps.Multiply(TOps.Load(o + (4 * rows) + w), al1);
            TVec a50 = TOps.Multiply(TOps.Load(o + (5 * rows)), al0), a51 = TOps.Multiply(TOps.Load(o + (5 * rows) + w), al1);
            float* v = value + c;
            float* pp = p;
            for (int j = 0; j < keys; j++, v += valueStride, pp += rows)
            {
                TVec p0 = TOps.Load(pp);
                TVec p1 = TOps.Load(pp + w);
                TVec b = TOps.Broadcast(v[0]);
                a00 = TOps.MultiplyAdd(b, p0, a00);
                a01 = TOps.MultiplyAdd(b, p1, a01);
                b = TOps.Broadcast(v[1]);
                a10 = TOps.MultiplyAdd(b, p0, a10);
                a11 = TOps.MultiplyAdd(b, p1, a11);
                b = TOps.Broadcast(v[2]);
                a20 = TOps.MultiplyAdd(b, p0, a20);
                a21 = TOps.MultiplyAdd(b, p1, a21);
                b = TOps.Broadcast(v[3]);
                a30 = TOps.MultiplyAdd(b, p0, a30);
                a31 = TOps.MultiplyAdd(b, p1, a31);
                b = TOps.Broadcast(v[4]);
                a40 = TOps.MultiplyAdd(b, p0, a40);
                a41 = TOps.MultiplyAdd(b, p1, a41);
                b = TOps.Broadcast(v[5]);
                a50 = TOps.MultiplyAdd(b, p0, a50);
                a51 = TOps.MultiplyAdd(b, p1, a51);
            }

            TOps.Store(o, a00);
            TOps.Store(o + w, a01);
            TOps.Store(o + rows, a10);
            TOps.Store(o + rows + w, a11);
            TOps.Store(o + (2 * rows), a20);
            TOps.Store(o + (2 * rows) + w, a21);
            TOps.Store(o + (3 * rows), a30);
            TOps.Store(o + (3 * rows) + w, a31);
            TOps.Store(o + (4 * rows), a40);
            TOps.Store(o + (4 * rows) + w, a41);
            TOps.Store(o + (5 * rows), a50);
            TOps.Store(o + (5 * rows) + w, a51);
        }

        if (c + 4 <= valueDim)
        {
            float* o = ot + (c * rows);
            TVec a00 = TOps.Multiply(TOps.Load(o), al0), a01 = TOps.Multiply(TOps.Load(o + w), al1);
            TVec a10 = TOps.Multiply(TOps.Load(o + rows), al0), a11 = TOps.Multiply(TOps.Load(o + rows + w), al1);
            TVec a20 = TOps.Multiply(TOps.Load(o + (2 * rows)), al0), a21 = TOps.Multiply(TOps.Load(o + (2 * rows) + w), al1);
            TVec a30 = TOps.Multiply(TOps.Load(o + (3 * rows)), al0), a31 = TOps.Multiply(TOps.Load(o + (3 * rows) + w), al1);
            float* v = value + c;
            float* pp = p;
            for (int j = 0; j < keys; j++, v += valueStride, pp += rows)
            {
                TVec p0 = TOps.Load(pp);
                TVec p1 = TOps.Load(pp + w);
                TVec b = TOps.Broadcast(v[0]);
                a00 = TOps.MultiplyAdd(b, p0, a00);
                a01 = TOps.MultiplyAdd(b, p1, a01);
                b = TOps.Broadcast(v[1]);
                a10 = TOps.MultiplyAdd(b, p0, a10);
                a11 = TOps.MultiplyAdd(b, p1, a11);
                b = TOps.Broadcast(v[2]);
                a20 = TOps.MultiplyAdd(b, p0, a20);
                a21 = TOps.MultiplyAdd(b, p1, a21);
                b = TOps.Broadcast(v[3]);
                a30 = TOps.MultiplyAdd(b, p0, a30);
                a31 = TOps.MultiplyAdd(b, p1, a31);
            }

            TOps.Store(o, a00);
            TOps.Store(o + w, a01);
            TOps.Store(o + rows, a10);
            TOps.Store(o + rows + w, a11);
            TOps.Store(o + (2 * rows), a20);
            TOps.Store(o + (2 * rows) + w, a21);
            TOps.Store(o + (3 * rows), a30);
            TOps.Store(o + (3 * rows) + w, a31);
            c += 4;
        }

        for (; c < valueDim; c++)
        {
            float* o = ot + (c * rows);
            TVec a0 = TOps.Multiply(TOps.Load(o), al0);
            TVec a1 = TOps.Multiply(TOps.Load(o + w), al1);
            float* v = value + c;
            float* pp = p;
            for (int j = 0; j < keys; j++, v += valueStride, pp += rows)
            {
                TVec b = TOps.Broadcast(*v);
                a0 = TOps.MultiplyAdd(b, TOps.Load(pp), a0);
                a1 = TOps.MultiplyAdd(b, TOps.Load(pp + w), a1);
            }

            TOps.Store(o, a0);
            TOps.Store(o + w, a1);
        }
    }
}
