using System.Runtime.CompilerServices;
using Attention.Native.Cpu.Simd;

namespace Attention.Native.Cpu;

/// <summary>
/// The decode kernel's inner loops for one query row (multi-head attention, where no other row shares the KV head,
/// and the rows left over after <see cref="DecodeRowTiles{TOps, TVec}"/>). With one row per K and V line the loops
/// are far from their FMA bound, so they are about keeping DRAM busy: every line is prefetched ahead.
/// </summary>
internal static unsafe class DecodeSingleRows<TOps, TVec>
    where TOps : ISimd<TVec>
    where TVec : unmanaged
{
    /// <summary>
    /// <c>scores[j] = q·key[j]</c>, eight keys at a time: eight independent FMA chains hide FMA latency (four left
    /// the loop latency-bound at a third of the FMA rate), each query vector load serves eight FMAs, and one add-pairs
    /// tree sums all eight.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scores<TAhead>(float* q, float* key, long keyStride, int keys, int dim, float* scores, TAhead ahead)
        where TAhead : struct, IStreamAhead
    {
        int w = TOps.Width;
        int j = 0;
        for (; j + 8 <= keys; j += 8)
        {
            float* k0 = key + (j * keyStride);
            float* k1 = k0 + keyStride;
            float* k2 = k1 + keyStride;
            float* k3 = k2 + keyStride;
            float* k4 = k3 + keyStride;
            float* k5 = k4 + keyStride;
            float* k6 = k5 + keyStride;
            float* k7 = k6 + keyStride;
            TVec a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero;
            TVec a4 = TOps.Zero, a5 = TOps.Zero, a6 = TOps.Zero, a7 = TOps.Zero;
            int x = 0;
            for (; x + w <= dim; x += w)
            {
                // One prefetch per 64-byte line of each key.
                if (TOps.Width >= 16 || (x & 15) == 0)
                {
                    ahead.FetchKey(k0 + x);
                    ahead.FetchKey(k1 + x);
                    ahead.FetchKey(k2 + x);
                    ahead.FetchKey(k3 + x);
                    ahead.FetchKey(k4 + x);
                    ahead.FetchKey(k5 + x);
                    ahead.FetchKey(k6 + x);
                    ahead.FetchKey(k7 + x);
                }

                TVec qv = TOps.Load(q + x);
                a0 = TOps.MultiplyAdd(qv, TOps.Load(k0 + x), a0);
                a1 = TOps.MultiplyAdd(qv, TOps.Load(k1 + x), a1);
                a2 = TOps.MultiplyAdd(qv, TOps.Load(k2 + x), a2);
                a3 = TOps.MultiplyAdd(qv, TOps.Load(k3 + x), a3);
                a4 = TOps.MultiplyAdd(qv, TOps.Load(k4 + x), a4);
                a5 = TOps.MultiplyAdd(qv, TOps.Load(k5 + x), a5);
                a6 = TOps.MultiplyAdd(qv, TOps.Load(k6 + x), a6);
                a7 = TOps.MultiplyAdd(qv, TOps.Load(k7 + x), a7);
            }

            HorizontalSums<TOps, TVec>.StoreEight(a0, a1, a2, a3, a4, a5, a6, a7, scores + j);
            if (x < dim)
            {
                scores[j] += OperandRows.DotTail(q, k0, x, dim);
                scores[j + 1] += OperandRows.DotTail(q, k1, x, dim);
                scores[j + 2] += OperandRows.DotTail(q, k2, x, dim);
                scores[j + 3] += OperandRows.DotTail(q, k3, x, dim);
                scores[j + 4] += OperandRows.DotTail(q, k4, x, dim);
                scores[j + 5] += OperandRows.DotTail(q, k5, x, dim);
                scores[j + 6] += OperandRows.DotTail(q, k6, x, dim);
                scores[j + 7] += OperandRows.DotTail(q, k7, x, dim);
            }
        }

        for (; j < keys; j++)
        {
            float* k0 = key + (j * keyStride);
            TVec a0 = TOps.Zero, a1 = TOps.Zero;
            int x = 0;
            for (; x + (2 * w) <= dim; x += 2 * w)
            {
                a0 = TOps.MultiplyAdd(TOps.Load(q + x), TOps.Load(k0 + x), a0);
                a1 = TOps.MultiplyAdd(TOps.Load(q + x + w), TOps.Load(k0 + x + w), a1);
            }

            for (; x + w <= dim; x += w)
            {
                a0 = TOps.MultiplyAdd(TOps.Load(q + x), TOps.Load(k0 + x), a0);
            }

            scores[j] = TOps.Sum(TOps.Add(a0, a1)) + OperandRows.DotTail(q, k0, x, dim);
        }
    }

    /// <summary>
    /// <c>acc = acc·rescale + Σ_j p[j]·value[j]</c>, eight vectors of columns at a time so eight FMA chains run in
    /// parallel over the block's keys.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Accumulate<TAhead>(
        float* acc, float* p, float* value, long valueStride, int keys, int valueDim, float rescale, TAhead ahead)
        where TAhead : struct, IStreamAhead
    {
        int w = TOps.Width;
        TVec scale = TOps.Broadcast(rescale);
        int c = 0;
        for (; c + (8 * w) <= valueDim; c += 8 * w)
        {
            float* a = acc + c;
            TVec a0 = TOps.Multiply(TOps.Load(a), scale), a1 = TOps.Multiply(TOps.Load(a + w), scale);
            TVec a2 = TOps.Multiply(TOps.Load(a + (2 * w)), scale), a3 = TOps.Multiply(TOps.Load(a + (3 * w)), scale);
            TVec a4 = TOps.Multiply(TOps.Load(a + (4 * w)), scale), a5 = TOps.Multiply(TOps.Load(a + (5 * w)), scale);
            TVec a6 = TOps.Multiply(TOps.Load(a + (6 * w)), scale), a7 = TOps.Multiply(TOps.Load(a + (7 * w)), scale);
            float* v = value + c;
            for (int j = 0; j < keys; j++, v += valueStride)
            {
                // The 8·W columns are 8·W / 16 lines: 2 at Vector128, 4 at Vector256, 8 at Vector512.
                ahead.FetchValue(v);
                ahead.FetchValue(v + 16);
                if (TOps.Width >= 8)
                {
                    ahead.FetchValue(v + 32);
                    ahead.FetchValue(v + 48);
                }

                if (TOps.Width >= 16)
                {
                    ahead.FetchValue(v + 64);
                    ahead.FetchValue(v + 80);
                    ahead.FetchValue(v + 96);
                    ahead.FetchValue(v + 112);
                }

                TVec pj = TOps.Broadcast(p[j]);
                a0 = TOps.MultiplyAdd(pj, TOps.Load(v), a0);
                a1 = TOps.MultiplyAdd(pj, TOps.Load(v + w), a1);
                a2 = TOps.MultiplyAdd(pj, TOps.Load(v + (2 * w)), a2);
                a3 = TOps.MultiplyAdd(pj, TOps.Load(v + (3 * w)), a3);
                a4 = TOps.MultiplyAdd(pj, TOps.Load(v + (4 * w)), a4);
                a5 = TOps.MultiplyAdd(pj, TOps.Load(v + (5 * w)), a5);
                a6 = TOps.MultiplyAdd(pj, TOps.Load(v + (6 * w)), a6);
                a7 = TOps.MultiplyAdd(pj, TOps.Load(v + (7 * w)), a7);
            }

            TOps.Store(a, a0);
            TOps.Store(a + w, a1);
            TOps.Store(a + (2 * w), a2);
            TOps.Store(a + (3 * w), a3);
            TOps.Store(a + (4 * w), a4);
            TOps.Store(a + (5 * w), a5);
            TOps.Store(a + (6 * w), a6);
            TOps.Store(a + (7 * w), a7);
        }

        for (; c + (2 * w) <= valueDim; c += 2 * w)
        {
            TVec a0 = TOps.Multiply(TOps.Load(acc + c), scale);
            TVec a1 = TOps.Multiply(TOps.Load(acc + c + w), scale);
            float* v = value + c;
            for (int j = 0; j < keys; j++, v += valueStride)
            {
                ahead.FetchValue(v);
                TVec pj = TOps.Broadcast(p[j]);
                a0 = TOps.MultiplyAdd(pj, TOps.Load(v), a0);
                a1 = TOps.MultiplyAdd(pj, TOps.Load(v + w), a1);
            }

            TOps.Store(acc + c, a0);
            TOps.Store(acc + c + w, a1);
        }

        for (; c + w <= valueDim; c += w)
        {
            TVec a0 = TOps.Multiply(TOps.Load(acc + c), scale);
            float* v = value + c;
            for (int j = 0; j < keys; j++, v += valueStride)
            {
                a0 = TOps.MultiplyAdd(TOps.Broadcast(p[j]), TOps.Load(v), a0);
            }

            TOps.Store(acc + c, a0);
        }

        for (; c < valueDim; c++)
        {
            float a = acc[c] * rescale;
            float* v = value + c;
            for (int j = 0; j < keys; j++, v += valueStride)
            {
                a += p[j] * *v;
            }

            acc[c] = a;
        }
    }
}
