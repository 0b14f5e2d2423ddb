using System.Runtime.CompilerServices;
using Attention.Native.Cpu.Simd;

namespace Attention.Native.Cpu.Decode;

/// <summary>
/// The decode kernel's work on a pair of key rows (or a lone one): their scores against four query rows or one, and
/// the two V rows into four rows' accumulators or one. The kernel interleaves the two (V rows of a block with K rows of
/// the next), so both operands stream from memory at once, and pairs keys half a block apart, so each operand is read
/// as two sequential streams. On one Zen 3 core (128 MiB of 512-byte rows; a plain sum reads 16–19 GB/s): a block of
/// K, then a block of V, restarted the hardware prefetchers at every switch (13–14 GB/s; both at once, 17); register
/// tiles over adjacent keys (j, j + 1), a vector of each in turn, read 10–12 whatever was prefetched, while rows half
/// a block apart read 17. Rows of K and V are float, Half, BFloat16 or int8 (<c>TKv</c>), each vector converted in
/// registers as it is loaded (<see cref="ElementLoads{TOps, TVec}"/>): an int8 row's scale is applied by the caller,
/// to the scores and to the probabilities. A lone key (the last of a block of odd count) takes a call: inlined as well,
/// it used up the JIT's inlining budget of the block step, which then called the Half conversions of the paired keys
/// (about 4× slower).
/// </summary>
internal static unsafe class DecodeKeySteps<TOps, TVec>
    where TOps : ISimd<TVec>
    where TVec : unmanaged
{
    /// <summary>Rows <see cref="ScoreFour"/> and <see cref="AccumulateFour"/> serve.</summary>
    public const int Rows = 4;

    /// <summary>
    /// <c>s[r·scoreStride] = q_r·key</c> for the four rows of <paramref name="q"/> (<paramref name="dim"/> apart): two
    /// accumulators per row, so eight FMA chains hide the FMA latency, and each K vector feeds four FMAs.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void ScoreFour<TKv>(float* q, int dim, TKv* key, float* s, int scoreStride)
        where TKv : unmanaged
    {
        int w = TOps.Width;
        float* q1 = q + dim, q2 = q1 + dim, q3 = q2 + dim;
        TVec a00 = TOps.Zero, a01 = TOps.Zero, a10 = TOps.Zero, a11 = TOps.Zero;
        TVec a20 = TOps.Zero, a21 = TOps.Zero, a30 = TOps.Zero, a31 = TOps.Zero;
        int x = 0;
        for (; x + (2 * w) <= dim; x += 2 * w)
        {
            TVec k0 = Row(key + x);
            TVec k1 = Row(key + x + w);
            a00 = TOps.MultiplyAdd(TOps.Load(q + x), k0, a00);
            a01 = TOps.MultiplyAdd(TOps.Load(q + x + w), k1, a01);
            a10 = TOps.MultiplyAdd(TOps.Load(q1 + x), k0, a10);
            a11 = TOps.MultiplyAdd(TOps.Load(q1 + x + w), k1, a11);
            a20 = TOps.MultiplyAdd(TOps.Load(q2 + x), k0, a20);
            a21 = TOps.MultiplyAdd(TOps.Load(q2 + x + w), k1, a21);
            a30 = TOps.MultiplyAdd(TOps.Load(q3 + x), k0, a30);
            a31 = TOps.MultiplyAdd(TOps.Load(q3 + x + w), k1, a31);
        }

        if (x + w <= dim)
        {
            TVec k0 = Row(key + x);
            a00 = TOps.MultiplyAdd(TOps.Load(q + x), k0, a00);
            a10 = TOps.MultiplyAdd(TOps.Load(q1 + x), k0, a10);
            a20 = TOps.MultiplyAdd(TOps.Load(q2 + x), k0, a20);
            a30 = TOps.MultiplyAdd(TOps.Load(q3 + x), k0, a30);
            x += w;
        }

        float* s1 = s + scoreStride, s2 = s1 + scoreStride, s3 = s2 + scoreStride;
        HorizontalSums<TOps, TVec>.StoreFour(
            TOps.Add(a00, a01), TOps.Add(a10, a11), TOps.Add(a20, a21), TOps.Add(a30, a31), s, s1, s2, s3);
        if (x < dim)
        {
            *s += DotTail(q, key, x, dim);
            *s1 += DotTail(q1, key, x, dim);
            *s2 += DotTail(q2, key, x, dim);
            *s3 += DotTail(q3, key, x, dim);
        }
    }

    /// <summary>
    /// <c>s[r·scoreStride] = q_r·key0</c> and <c>s[r·scoreStride + distance] = q_r·key1</c> for four rows: eight FMA
    /// chains, and six loads (two K, four Q from L1) per eight FMAs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ScoreFourPair<TKv>(
        float* q, int dim, TKv* key0, TKv* key1, float* s, int scoreStride, int distance)
        where TKv : unmanaged
    {
        int w = TOps.Width;
        float* q1 = q + dim, q2 = q1 + dim, q3 = q2 + dim;
        TVec a00 = TOps.Zero, a01 = TOps.Zero, a10 = TOps.Zero, a11 = TOps.Zero;
        TVec a20 = TOps.Zero, a21 = TOps.Zero, a30 = TOps.Zero, a31 = TOps.Zero;
        int x = 0;
        for (; x + w <= dim; x += w)
        {
            TVec k0 = Row(key0 + x);
            TVec k1 = Row(key1 + x);
            TVec qv = TOps.Load(q + x);
            a00 = TOps.MultiplyAdd(qv, k0, a00);
            a01 = TOps.MultiplyAdd(qv, k1, a01);
            qv = TOps.Load(q1 + x);
            a10 = TOps.MultiplyAdd(qv, k0, a10);
            a11 = TOps.MultiplyAdd(qv, k1, a11);
            qv = TOps.Load(q2 + x);
            a20 = TOps.MultiplyAdd(qv, k0, a20);
            a21 = TOps.MultiplyAdd(qv, k1, a21);
            qv = TOps.Load(q3 + x);
            a30 = TOps.MultiplyAdd(qv, k0, a30);
            a31 = TOps.MultiplyAdd(qv, k1, a31);
        }

        float* s1 = s + scoreStride, s2 = s1 + scoreStride, s3 = s2 + scoreStride;
        HorizontalSums<TOps, TVec>.StoreFourRowsKeyPair(a00, a01, a10, a11, a20, a21, a30, a31, s, s1, s2, s3, distance);
        if (x < dim)
        {
            *s += DotTail(q, key0, x, dim);
            s[distance] += DotTail(q, key1, x, dim);
            *s1 += DotTail(q1, key0, x, dim);
            s1[distance] += DotTail(q1, key1, x, dim);
            *s2 += DotTail(q2, key0, x, dim);
            s2[distance] += DotTail(q2, key1, x, dim);
            *s3 += DotTail(q3, key0, x, dim);
            s3[distance] += DotTail(q3, key1, x, dim);
        }
    }

    /// <summary><c>s[0] = q·key0</c>, <c>s[distance] = q·key1</c>: two FMA chains per key.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ScoreOnePair<TKv>(float* q, TKv* key0, TKv* key1, int dim, float* s, int distance)
        where TKv : unmanaged
    {
        int w = TOps.Width;
        TVec a0 = TOps.Zero, a1 = TOps.Zero, b0 = TOps.Zero, b1 = TOps.Zero;
        int x = 0;
        for (; x + (2 * w) <= dim; x += 2 * w)
        {
            TVec q0 = TOps.Load(q + x);
            TVec q1 = TOps.Load(q + x + w);
            a0 = TOps.MultiplyAdd(q0, Row(key0 + x), a0);
            b0 = TOps.MultiplyAdd(q0, Row(key1 + x), b0);
            a1 = TOps.MultiplyAdd(q1, Row(key0 + x + w), a1);
            b1 = TOps.MultiplyAdd(q1, Row(key1 + x + w), b1);
        }

        if (x + w <= dim)
        {
            TVec q0 = TOps.Load(q + x);
            a0 = TOps.MultiplyAdd(q0, Row(key0 + x), a0);
            b0 = TOps.MultiplyAdd(q0, Row(key1 + x), b0);
            x += w;
        }

        *s = TOps.Sum(TOps.Add(a0, a1)) + DotTail(q, key0, x, dim);
        s[distance] = TOps.Sum(TOps.Add(b0, b1)) + DotTail(q, key1, x, dim);
    }

    /// <summary><c>q·key</c> with four FMA chains.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float ScoreOne<TKv>(float* q, TKv* key, int dim)
        where TKv : unmanaged
    {
        int w = TOps.Width;
        TVec a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero;
        int x = 0;
        for (; x + (4 * w) <= dim; x += 4 * w)
        {
            a0 = TOps.MultiplyAdd(TOps.Load(q + x), Row(key + x), a0);
            a1 = TOps.MultiplyAdd(TOps.Load(q + x + w), Row(key + x + w), a1);
            a2 = TOps.MultiplyAdd(TOps.Load(q + x + (2 * w)), Row(key + x + (2 * w)), a2);
            a3 = TOps.MultiplyAdd(TOps.Load(q + x + (3 * w)), Row(key + x + (3 * w)), a3);
        }

        for (; x + w <= dim; x += w)
        {
            a0 = TOps.MultiplyAdd(TOps.Load(q + x), Row(key + x), a0);
        }

        return TOps.Sum(TOps.Add(TOps.Add(a0, a1), TOps.Add(a2, a3))) + DotTail(q, key, x, dim);
    }

    /// <summary>
    /// <c>acc_r += p[r·pStride]·value</c> for four rows of accumulators (<paramref name="valueDim"/> apart, in L1):
    /// each V vector is loaded once for the four rows.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void AccumulateFour<TKv>(float* acc, int valueDim, TKv* value, float* p, int pStride)
        where TKv : unmanaged
    {
        int w = TOps.Width;
        float* acc1 = acc + valueDim, acc2 = acc1 + valueDim, acc3 = acc2 + valueDim;
        TVec p0 = TOps.Broadcast(*p), p1 = TOps.Broadcast(p[pStride]);
        TVec p2 = TOps.Broadcast(p[2 * pStride]), p3 = TOps.Broadcast(p[3 * pStride]);
        int c = 0;
        for (; c + (2 * w) <= valueDim; c += 2 * w)
        {
            TVec v0 = Row(value + c);
            TVec v1 = Row(value + c + w);
            TOps.Store(acc + c, TOps.MultiplyAdd(p0, v0, TOps.Load(acc + c)));
            TOps.Store(acc + c + w, TOps.MultiplyAdd(p0, v1, TOps.Load(acc + c + w)));
            TOps.Store(acc1 + c, TOps.MultiplyAdd(p1, v0, TOps.Load(acc1 + c)));
            TOps.Store(acc1 + c + w, TOps.MultiplyAdd(p1, v1, TOps.Load(acc1 + c + w)));
            TOps.Store(acc2 + c, TOps.MultiplyAdd(p2, v0, TOps.Load(acc2 + c)));
            TOps.Store(acc2 + c + w, TOps.MultiplyAdd(p2, v1, TOps.Load(acc2 + c + w)));
            TOps.Store(acc3 + c, TOps.MultiplyAdd(p3, v0, TOps.Load(acc3 + c)));
            TOps.Store(acc3 + c + w, TOps.MultiplyAdd(p3, v1, TOps.Load(acc3 + c + w)));
        }

        for (; c + w <= valueDim; c += w)
        {
            TVec v0 = Row(value + c);
            TOps.Store(acc + c, TOps.MultiplyAdd(p0, v0, TOps.Load(acc + c)));
            TOps.Store(acc1 + c, TOps.MultiplyAdd(p1, v0, TOps.Load(acc1 + c)));
            TOps.Store(acc2 + c, TOps.MultiplyAdd(p2, v0, TOps.Load(acc2 + c)));
            TOps.Store(acc3 + c, TOps.MultiplyAdd(p3, v0, TOps.Load(acc3 + c)));
        }

        for (; c < valueDim; c++)
        {
            float v = Element(value + c);
            acc[c] += *p * v;
            acc1[c] += p[pStride] * v;
            acc2[c] += p[2 * pStride] * v;
            acc3[c] += p[3 * pStride] * v;
        }
    }

    /// <summary>
    /// <c>acc_r += p[r·pStride]·value0 + p[r·pStride + distance]·value1</c> for four rows: each accumulator vector is
    /// loaded and stored once for two keys (the stores bound this loop).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AccumulateFourPair<TKv>(
        float* acc, int valueDim, TKv* value0, TKv* value1, float* p, int pStride, int distance)
        where TKv : unmanaged
    {
        int w = TOps.Width;
        float* acc1 = acc + valueDim, acc2 = acc1 + valueDim, acc3 = acc2 + valueDim;
        float* pr1 = p + pStride, pr2 = pr1 + pStride, pr3 = pr2 + pStride;
        TVec p00 = TOps.Broadcast(*p), p01 = TOps.Broadcast(p[distance]);
        TVec p10 = TOps.Broadcast(*pr1), p11 = TOps.Broadcast(pr1[distance]);
        TVec p20 = TOps.Broadcast(*pr2), p21 = TOps.Broadcast(pr2[distance]);
        TVec p30 = TOps.Broadcast(*pr3), p31 = TOps.Broadcast(pr3[distance]);
        int c = 0;
        for (; c + w <= valueDim; c += w)
        {
            TVec x0 = Row(value0 + c);
            TVec x1 = Row(value1 + c);
            TOps.Store(acc + c, TOps.MultiplyAdd(p01, x1, TOps.MultiplyAdd(p00, x0, TOps.Load(acc + c))));
            TOps.Store(acc1 + c, TOps.MultiplyAdd(p11, x1, TOps.MultiplyAdd(p10, x0, TOps.Load(acc1 + c))));
            TOps.Store(acc2 + c, TOps.MultiplyAdd(p21, x1, TOps.MultiplyAdd(p20, x0, TOps.Load(acc2 + c))));
            TOps.Store(acc3 + c, TOps.MultiplyAdd(p31, x1, TOps.MultiplyAdd(p30, x0, TOps.Load(acc3 + c))));
        }

        for (; c < valueDim; c++)
        {
            float x0 = Element(value0 + c), x1 = Element(value1 + c);
            acc[c] += (*p * x0) + (p[distance] * x1);
            acc1[c] += (*pr1 * x0) + (pr1[distance] * x1);
            acc2[c] += (*pr2 * x0) + (pr2[distance] * x1);
            acc3[c] += (*pr3 * x0) + (pr3[distance] * x1);
        }
    }

    /// <summary><c>acc += p0·value0 + p1·value1</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AccumulateOnePair<TKv>(float* acc, int valueDim, TKv* value0, TKv* value1, float p0, float p1)
        where TKv : unmanaged
    {
        int w = TOps.Width;
        TVec v0 = TOps.Broadcast(p0), v1 = TOps.Broadcast(p1);
        int c = 0;
        for (; c + (2 * w) <= valueDim; c += 2 * w)
        {
            TOps.Store(acc + c, TOps.MultiplyAdd(v1, Row(value1 + c),
                TOps.MultiplyAdd(v0, Row(value0 + c), TOps.Load(acc + c))));
            TOps.Store(acc + c + w, TOps.MultiplyAdd(v1, Row(value1 + c + w),
                TOps.MultiplyAdd(v0, Row(value0 + c + w), TOps.Load(acc + c + w))));
        }

        for (; c + w <= valueDim; c += w)
        {
            TOps.Store(acc + c, TOps.MultiplyAdd(v1, Row(value1 + c),
                TOps.MultiplyAdd(v0, Row(value0 + c), TOps.Load(acc + c))));
        }

        for (; c < valueDim; c++)
        {
            acc[c] += (p0 * Element(value0 + c)) + (p1 * Element(value1 + c));
        }
    }

    /// <summary><c>acc += p·value</c>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void AccumulateOne<TKv>(float* acc, int valueDim, TKv* value, float p)
        where TKv : unmanaged
    {
        int w = TOps.Width;
        TVec pv = TOps.Broadcast(p);
        int c = 0;
        for (; c + (2 * w) <= valueDim; c += 2 * w)
        {
            TOps.Store(acc + c, TOps.MultiplyAdd(pv, Row(value + c), TOps.Load(acc + c)));
            TOps.Store(acc + c + w, TOps.MultiplyAdd(pv, Row(value + c + w), TOps.Load(acc + c + w)));
        }

        for (; c + w <= valueDim; c += w)
        {
            TOps.Store(acc + c, TOps.MultiplyAdd(pv, Row(value + c), TOps.Load(acc + c)));
        }

        for (; c < valueDim; c++)
        {
            acc[c] += p * Element(value + c);
        }
    }

    /// <summary>A vector of a K or V row as floats, converted in registers (<see cref="ElementLoads{TOps, TVec}"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec Row<TKv>(TKv* source)
        where TKv : unmanaged => ElementLoads<TOps, TVec>.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Element<TKv>(TKv* source)
        where TKv : unmanaged => ElementLoads<TOps, TVec>.Scalar(source);

    /// <summary>The scalar remainder of a dot product past the last full vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float DotTail<TKv>(float* q, TKv* key, int from, int dim)
        where TKv : unmanaged
    {
        float sum = 0;
        for (int x = from; x < dim; x++)
        {
            sum += q[x] * Element(key + x);
        }

        return sum;
    }
}
