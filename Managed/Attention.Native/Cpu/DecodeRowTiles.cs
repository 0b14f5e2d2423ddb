using System.Runtime.CompilerServices;
using Attention.Native.Cpu.Simd;

namespace Attention.Native.Cpu;

/// <summary>
/// The decode kernel's inner loops over four query rows at once (four GQA heads, or queries, sharing a KV head):
/// each K and V vector loaded feeds all four rows. Row by row, each row re-read the whole key block from L2 while
/// only the first row's pass drew it from DRAM, so three quarters of the time no memory traffic overlapped compute
/// (6 GB/s, a third of the read bandwidth, at group 4).
/// </summary>
internal static unsafe class DecodeRowTiles<TOps, TVec>
    where TOps : ISimd<TVec>
    where TVec : unmanaged
{
    /// <summary>Rows one call serves.</summary>
    public const int Rows = 4;

    /// <summary>
    /// <c>scores[r·scoreStride + j] = q_r·key[j]</c> for four rows, two keys at a time: eight FMA chains, and six
    /// loads (two K, four Q from L1) per eight FMAs; the eight lane sums by one add-pairs tree. Keys are walked in
    /// address order, each K line prefetched by <paramref name="ahead"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scores<TAhead>(
        float* q, int dim, float* key, long keyStride, int keys, float* scores, int scoreStride, TAhead ahead)
        where TAhead : struct, IStreamAhead
    {
        int w = TOps.Width;
        float* q1 = q + dim, q2 = q1 + dim, q3 = q2 + dim;
        float* s1 = scores + scoreStride, s2 = s1 + scoreStride, s3 = s2 + scoreStride;
        int j = 0;
        for (; j + 2 <= keys; j += 2)
        {
            float* k0 = key + (j * keyStride);
            float* k1 = k0 + keyStride;
            TVec a00 = TOps.Zero, a01 = TOps.Zero, a10 = TOps.Zero, a11 = TOps.Zero;
            TVec a20 = TOps.Zero, a21 = TOps.Zero, a30 = TOps.Zero, a31 = TOps.Zero;
            int x = 0;
            for (; x + (2 * w) <= dim; x += 2 * w)
            {
                // Two vectors per key make one 64-byte line at Vector256 (two lines at Vector512).
                ahead.FetchKey(k0 + x);
                ahead.FetchKey(k1 + x);
                if (TOps.Width > 8)
                {
                    ahead.FetchKey(k0 + x + 16);
                    ahead.FetchKey(k1 + x + 16);
                }

                FourByTwo(TOps.Load(k0 + x), TOps.Load(k1 + x), q + x, q1 + x, q2 + x, q3 + x,
                    ref a00, ref a01, ref a10, ref a11, ref a20, ref a21, ref a30, ref a31);
                FourByTwo(TOps.Load(k0 + x + w), TOps.Load(k1 + x + w), q + x + w, q1 + x + w, q2 + x + w, q3 + x + w,
                    ref a00, ref a01, ref a10, ref a11, ref a20, ref a21, ref a30, ref a31);
            }

            for (; x + w <= dim; x += w)
            {
                ahead.FetchKey(k0 + x);
                ahead.FetchKey(k1 + x);
                FourByTwo(TOps.Load(k0 + x), TOps.Load(k1 + x), q + x, q1 + x, q2 + x, q3 + x,
                    ref a00, ref a01, ref a10, ref a11, ref a20, ref a21, ref a30, ref a31);
            }

            HorizontalSums<TOps, TVec>.StoreFourRowsTwoKeys(a00, a01, a10, a11, a20, a21, a30, a31,
                scores + j, s1 + j, s2 + j, s3 + j);
            if (x < dim)
            {
                scores[j] += OperandRows.DotTail(q, k0, x, dim);
                scores[j + 1] += OperandRows.DotTail(q, k1, x, dim);
                s1[j] += OperandRows.DotTail(q1, k0, x, dim);
                s1[j + 1] += OperandRows.DotTail(q1, k1, x, dim);
                s2[j] += OperandRows.DotTail(q2, k0, x, dim);
                s2[j + 1] += OperandRows.DotTail(q2, k1, x, dim);
                s3[j] += OperandRows.DotTail(q3, k0, x, dim);
                s3[j + 1] += OperandRows.DotTail(q3, k1, x, dim);
            }
        }

        if (j < keys)
        {
            float* k0 = key + (j * keyStride);
            TVec a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero;
            int x = 0;
            for (; x + w <= dim; x += w)
            {
                TVec v0 = TOps.Load(k0 + x);
                a0 = TOps.MultiplyAdd(TOps.Load(q + x), v0, a0);
                a1 = TOps.MultiplyAdd(TOps.Load(q1 + x), v0, a1);
                a2 = TOps.MultiplyAdd(TOps.Load(q2 + x), v0, a2);
                a3 = TOps.MultiplyAdd(TOps.Load(q3 + x), v0, a3);
            }

            scores[j] = TOps.Sum(a0) + OperandRows.DotTail(q, k0, x, dim);
            s1[j] = TOps.Sum(a1) + OperandRows.DotTail(q1, k0, x, dim);
            s2[j] = TOps.Sum(a2) + OperandRows.DotTail(q2, k0, x, dim);
            s3[j] = TOps.Sum(a3) + OperandRows.DotTail(q3, k0, x, dim);
        }
    }

    /// <summary>
    /// <c>acc_r = acc_r·rescale[r] + Σ_j p[r·pStride + j]·value[j]</c> for four rows, two vectors of columns at a
    /// time: eight FMA chains in registers, each V vector loaded once for the four rows. For V rows already in cache
    /// (a later row tile, or converted operands); the first tile's pass over memory is <see cref="AccumulateKeyMajor"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Accumulate(
        float* acc, float* p, int pStride, float* value, long valueStride, int keys, int valueDim, float* rescale)
    {
        int w = TOps.Width;
        float* acc1 = acc + valueDim, acc2 = acc1 + valueDim, acc3 = acc2 + valueDim;
        float* p1 = p + pStride, p2 = p1 + pStride, p3 = p2 + pStride;
        TVec r0 = TOps.Broadcast(rescale[0]), r1 = TOps.Broadcast(rescale[1]);
        TVec r2 = TOps.Broadcast(rescale[2]), r3 = TOps.Broadcast(rescale[3]);
        int c = 0;
        for (; c + (2 * w) <= valueDim; c += 2 * w)
        {
            TVec a00 = TOps.Multiply(TOps.Load(acc + c), r0), a01 = TOps.Multiply(TOps.Load(acc + c + w), r0);
            TVec a10 = TOps.Multiply(TOps.Load(acc1 + c), r1), a11 = TOps.Multiply(TOps.Load(acc1 + c + w), r1);
            TVec a20 = TOps.Multiply(TOps.Load(acc2 + c), r2), a21 = TOps.Multiply(TOps.Load(acc2 + c + w), r2);
            TVec a30 = TOps.Multiply(TOps.Load(acc3 + c), r3), a31 = TOps.Multiply(TOps.Load(acc3 + c + w), r3);
            float* v = value + c;
            for (int j = 0; j < keys; j++, v += valueStride)
            {
                TVec v0 = TOps.Load(v);
                TVec v1 = TOps.Load(v + w);
                TVec pj = TOps.Broadcast(p[j]);
                a00 = TOps.MultiplyAdd(pj, v0, a00);
                a01 = TOps.MultiplyAdd(pj, v1, a01);
                pj = TOps.Broadcast(p1[j]);
                a10 = TOps.MultiplyAdd(pj, v0, a10);
                a11 = TOps.MultiplyAdd(pj, v1, a11);
                pj = TOps.Broadcast(p2[j]);
                a20 = TOps.MultiplyAdd(pj, v0, a20);
                a21 = TOps.MultiplyAdd(pj, v1, a21);
                pj = TOps.Broadcast(p3[j]);
                a30 = TOps.MultiplyAdd(pj, v0, a30);
                a31 = TOps.MultiplyAdd(pj, v1, a31);
            }

            TOps.Store(acc + c, a00);
            TOps.Store(acc + c + w, a01);
            TOps.Store(acc1 + c, a10);
            TOps.Store(acc1 + c + w, a11);
            TOps.Store(acc2 + c, a20);
            TOps.Store(acc2 + c + w, a21);
            TOps.Store(acc3 + c, a30);
            TOps.Store(acc3 + c + w, a31);
        }

        for (; c < valueDim; c++)
        {
            float a0 = acc[c] * rescale[0], a1 = acc1[c] * rescale[1];
            float a2 = acc2[c] * rescale[2], a3 = acc3[c] * rescale[3];
            float* v = value + c;
            for (int j = 0; j < keys; j++, v += valueStride)
            {
                a0 += p[j] * *v;
                a1 += p1[j] * *v;
                a2 += p2[j] * *v;
                a3 += p3[j] * *v;
            }

            acc[c] = a0;
            acc1[c] = a1;
            acc2[c] = a2;
            acc3[c] = a3;
        }
    }

    /// <summary>
    /// The same as <see cref="Accumulate"/> for V rows that stream from memory: V walked key by key (two rows at a time,
    /// each read start to end, every line prefetched by <paramref name="ahead"/>) with the four rows' accumulators in
    /// L1, so that K and V both stream in address order. Column by column (<see cref="Accumulate"/>) each pass touched
    /// one line of every 512-byte V row; key by key moved GQA 32/8, Lk 4096–32768, D 128 (1 thread, Zen 3) from 44–50 %
    /// to 50–56 % of the read bandwidth measured beside it. From cache the column loop stays faster (its accumulators
    /// live in registers): 15.9–16.9 against 11.8–14.8 GB/s with K and V in L3.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AccumulateKeyMajor<TAhead>(
        float* acc, float* p, int pStride, float* value, long valueStride, int keys, int valueDim, float* rescale,
        TAhead ahead)
        where TAhead : struct, IStreamAhead
    {
        int w = TOps.Width;
        float* acc1 = acc + valueDim, acc2 = acc1 + valueDim, acc3 = acc2 + valueDim;
        float* p1 = p + pStride, p2 = p1 + pStride, p3 = p2 + pStride;
        int vectorEnd = valueDim - (valueDim % w);
        for (int r = 0; r < Rows; r++)
        {
            float* a = acc + (r * valueDim);
            TVec scale = TOps.Broadcast(rescale[r]);
            int c = 0;
            for (; c < vectorEnd; c += w)
            {
                TOps.Store(a + c, TOps.Multiply(TOps.Load(a + c), scale));
            }

            for (; c < valueDim; c++)
            {
                a[c] *= rescale[r];
            }
        }

        int j = 0;
        for (; j + 2 <= keys; j += 2)
        {
            float* v0 = value + (j * valueStride);
            float* v1 = v0 + valueStride;
            TVec p00 = TOps.Broadcast(p[j]), p01 = TOps.Broadcast(p[j + 1]);
            TVec p10 = TOps.Broadcast(p1[j]), p11 = TOps.Broadcast(p1[j + 1]);
            TVec p20 = TOps.Broadcast(p2[j]), p21 = TOps.Broadcast(p2[j + 1]);
            TVec p30 = TOps.Broadcast(p3[j]), p31 = TOps.Broadcast(p3[j + 1]);
            int c = 0;
            for (; c < vectorEnd; c += w)
            {
                if (TOps.Width >= 16 || (c & 15) == 0)
                {
                    ahead.FetchValue(v0 + c);
                    ahead.FetchValue(v1 + c);
                }

                TVec x0 = TOps.Load(v0 + c);
                TVec x1 = TOps.Load(v1 + c);
                TOps.Store(acc + c, TOps.MultiplyAdd(p01, x1, TOps.MultiplyAdd(p00, x0, TOps.Load(acc + c))));
                TOps.Store(acc1 + c, TOps.MultiplyAdd(p11, x1, TOps.MultiplyAdd(p10, x0, TOps.Load(acc1 + c))));
                TOps.Store(acc2 + c, TOps.MultiplyAdd(p21, x1, TOps.MultiplyAdd(p20, x0, TOps.Load(acc2 + c))));
                TOps.Store(acc3 + c, TOps.MultiplyAdd(p31, x1, TOps.MultiplyAdd(p30, x0, TOps.Load(acc3 + c))));
            }

            for (; c < valueDim; c++)
            {
                acc[c] += (p[j] * v0[c]) + (p[j + 1] * v1[c]);
                acc1[c] += (p1[j] * v0[c]) + (p1[j + 1] * v1[c]);
                acc2[c] += (p2[j] * v0[c]) + (p2[j + 1] * v1[c]);
                acc3[c] += (p3[j] * v0[c]) + (p3[j + 1] * v1[c]);
            }
        }

        for (; j < keys; j++)
        {
            float* v0 = value + (j * valueStride);
            for (int c = 0; c < valueDim; c++)
            {
                acc[c] += p[j] * v0[c];
                acc1[c] += p1[j] * v0[c];
                acc2[c] += p2[j] * v0[c];
                acc3[c] += p3[j] * v0[c];
            }
        }
    }

    /// <summary>One vector of two keys into the four rows' eight accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FourByTwo(
        TVec k0, TVec k1, float* q0, float* q1, float* q2, float* q3,
        ref TVec a00, ref TVec a01, ref TVec a10, ref TVec a11, ref TVec a20, ref TVec a21, ref TVec a30, ref TVec a31)
    {
        TVec qv = TOps.Load(q0);
        a00 = TOps.MultiplyAdd(qv, k0, a00);
        a01 = TOps.MultiplyAdd(qv, k1, a01);
        qv = TOps.Load(q1);
        a10 = TOps.MultiplyAdd(qv, k0, a10);
        a11 = TOps.MultiplyAdd(qv, k1, a11);
        qv = TOps.Load(q2);
        a20 = TOps.MultiplyAdd(qv, k0, a20);
        a21 = TOps.MultiplyAdd(qv, k1, a21);
        qv = TOps.Load(q3);
        a30 = TOps.MultiplyAdd(qv, k0, a30);
        a31 = TOps.MultiplyAdd(qv, k1, a31);
    }
}
