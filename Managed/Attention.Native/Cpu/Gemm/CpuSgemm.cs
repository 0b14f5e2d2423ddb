using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Attention.Native.Cpu.Gemm;

/// <summary>
/// Row-major single-precision GEMM, <c>C = alpha·op(A)·op(B) + beta·C</c>: the CPU projections of the layers.
/// </summary>
/// <remarks>
/// A simple, correct, vectorised implementation (rows of C split across threads; <c>Vector&lt;float&gt;</c> along C's
/// rows, or along k for dot products when B is transposed). The fast blocked SGEMM replaces this file as a whole.
/// </remarks>
internal static class CpuSgemm
{
    /// <summary>Rows of C below which one thread does the whole product (threads cost more than they save).</summary>
    private const long MinWorkPerThread = 1 << 18;

    /// <summary>Computes <c>C = alpha·op(A)·op(B) + beta·C</c> on row-major matrices.</summary>
    /// <param name="transposeA">Whether op(A) = Aᵀ (A is stored k × m) rather than A (m × k).</param>
    /// <param name="transposeB">Whether op(B) = Bᵀ (B is stored n × k) rather than B (k × n).</param>
    /// <param name="m">Rows of C.</param>
    /// <param name="n">Columns of C.</param>
    /// <param name="k">The summed dimension.</param>
    /// <param name="alpha">Multiplier of the product.</param>
    /// <param name="a">A's elements.</param>
    /// <param name="lda">A's row stride.</param>
    /// <param name="b">B's elements.</param>
    /// <param name="ldb">B's row stride.</param>
    /// <param name="beta">Multiplier of C's old value; 0 means C is not read.</param>
    /// <param name="c">C's elements.</param>
    /// <param name="ldc">C's row stride.</param>
    /// <param name="threads">Threads to use; 0 or less means all processors.</param>
    public static void Multiply(
        bool transposeA, bool transposeB, int m, int n, int k, float alpha, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc, int threads)
    {
        if (m <= 0 || n <= 0)
        {
            return;
        }

        int workers = threads <= 0 ? Environment.ProcessorCount : threads;
        long work = (long)m * n * Math.Max(k, 1);
        workers = (int)Math.Clamp(Math.Min(work / MinWorkPerThread, m), 1, workers);
        ref float a0 = ref MemoryMarshal.GetReference(a);
        ref float b0 = ref MemoryMarshal.GetReference(b);
        ref float c0 = ref MemoryMarshal.GetReference(c);
        if (workers == 1)
        {
            Rows(new(transposeA, transposeB, n, k, alpha, lda, ldb, beta, ldc), ref a0, ref b0, ref c0, 0, m);
            return;
        }

        // Spans cannot enter a lambda; the caller's spans outlive the (synchronous) parallel loop.
        unsafe
        {
            fixed (float* pa = a, pb = b, pc = c)
            {
                var job = new Job(transposeA, transposeB, n, k, alpha, lda, ldb, beta, ldc);
                nint ia = (nint)pa, ib = (nint)pb, ic = (nint)pc;
                int chunk = (m + workers - 1) / workers;
                Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
                {
                    int start = w * chunk, end = Math.Min(m, start + chunk);
                    if (start < end)
                    {
                        Rows(job, ref *(float*)ia, ref *(float*)ib, ref *(float*)ic, start, end);
                    }
                });
            }
        }
    }

    private readonly record struct Job(
        bool TransposeA, bool TransposeB, int N, int K, float Alpha, int Lda, int Ldb, float Beta, int Ldc);

    private static void Rows(in Job job, ref float a, ref float b, ref float c, int start, int end)
    {
        for (int i = start; i < end; i++)
        {
            ref float row = ref Unsafe.Add(ref c, (nint)i * job.Ldc);
            if (job.TransposeB)
            {
                DotRow(job, ref a, ref b, ref row, i);
            }
            else
            {
                AxpyRow(job, ref a, ref b, ref row, i);
            }
        }
    }

    /// <summary>One row of C with B not transposed: <c>C[i,:] = beta·C[i,:] + Σₚ alpha·A[i,p]·B[p,:]</c>.</summary>
    private static void AxpyRow(in Job job, ref float a, ref float b, ref float row, int i)
    {
        int n = job.N;
        if (job.Beta == 0)
        {
            MemoryMarshal.CreateSpan(ref row, n).Clear();
        }
        else if (job.Beta != 1)
        {
            Scale(ref row, n, job.Beta);
        }

        for (int p = 0; p < job.K; p++)
        {
            float aip = job.Alpha * (job.TransposeA ? Unsafe.Add(ref a, ((nint)p * job.Lda) + i) : Unsafe.Add(ref a, ((nint)i * job.Lda) + p));
            ref float bp = ref Unsafe.Add(ref b, (nint)p * job.Ldb);
            var va = new Vector<float>(aip);
            int j = 0;
            for (; j <= n - Vector<float>.Count; j += Vector<float>.Count)
            {
                ref float cj = ref Unsafe.Add(ref row, j);
                Vector.StoreUnsafe(Vector.FusedMultiplyAdd(va, Vector.LoadUnsafe(ref Unsafe.Add(ref bp, j)), Vector.LoadUnsafe(ref cj)), ref cj);
            }

            for (; j < n; j++)
            {
                Unsafe.Add(ref row, j) = MathF.FusedMultiplyAdd(aip, Unsafe.Add(ref bp, j), Unsafe.Add(ref row, j));
            }
        }
    }

    /// <summary>One row of C with B transposed: each element a dot product of A's row i and B's row j.</summary>
    private static void DotRow(in Job job, ref float a, ref float b, ref float row, int i)
    {
        int k = job.K;
        Span<float> gathered = job.TransposeA && k <= 4096 ? stackalloc float[k] : default;
        ref float ai = ref Unsafe.Add(ref a, (nint)i * job.Lda);
        if (job.TransposeA)
        {
            // A's column i is strided: gather it once per row of C so the dot products stream contiguously.
            var column = gathered.IsEmpty ? new float[k] : gathered;
            for (int p = 0; p < k; p++)
            {
                column[p] = Unsafe.Add(ref a, ((nint)p * job.Lda) + i);
            }

            DotColumns(job, ref MemoryMarshal.GetReference(column), ref b, ref row);
            return;
        }

        DotColumns(job, ref ai, ref b, ref row);
    }

    private static void DotColumns(in Job job, ref float ai, ref float b, ref float row)
    {
        int j = 0;
        // Four rows of B per pass: each load of A's row feeds four FMAs.
        for (; j <= job.N - 4; j += 4)
        {
            ref float b0 = ref Unsafe.Add(ref b, (nint)j * job.Ldb);
            Dot4(ref ai, ref b0, job.Ldb, job.K, out float d0, out float d1, out float d2, out float d3);
            Store(job, ref Unsafe.Add(ref row, j), d0);
            Store(job, ref Unsafe.Add(ref row, j + 1), d1);
            Store(job, ref Unsafe.Add(ref row, j + 2), d2);
            Store(job, ref Unsafe.Add(ref row, j + 3), d3);
        }

        for (; j < job.N; j++)
        {
            Store(job, ref Unsafe.Add(ref row, j), Dot(ref ai, ref Unsafe.Add(ref b, (nint)j * job.Ldb), job.K));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(in Job job, ref float target, float dot) =>
        target = job.Beta == 0 ? job.Alpha * dot : MathF.FusedMultiplyAdd(job.Alpha, dot, job.Beta * target);

    private static void Dot4(ref float x, ref float y0, int ldy, int k, out float d0, out float d1, out float d2, out float d3)
    {
        ref float y1 = ref Unsafe.Add(ref y0, ldy);
        ref float y2 = ref Unsafe.Add(ref y1, ldy);
        ref float y3 = ref Unsafe.Add(ref y2, ldy);
        Vector<float> s0 = default, s1 = default, s2 = default, s3 = default;
        int p = 0;
        for (; p <= k - Vector<float>.Count; p += Vector<float>.Count)
        {
            var vx = Vector.LoadUnsafe(ref Unsafe.Add(ref x, p));
            s0 = Vector.FusedMultiplyAdd(vx, Vector.LoadUnsafe(ref Unsafe.Add(ref y0, p)), s0);
            s1 = Vector.FusedMultiplyAdd(vx, Vector.LoadUnsafe(ref Unsafe.Add(ref y1, p)), s1);
            s2 = Vector.FusedMultiplyAdd(vx, Vector.LoadUnsafe(ref Unsafe.Add(ref y2, p)), s2);
            s3 = Vector.FusedMultiplyAdd(vx, Vector.LoadUnsafe(ref Unsafe.Add(ref y3, p)), s3);
        }

        d0 = Vector.Sum(s0);
        d1 = Vector.Sum(s1);
        d2 = Vector.Sum(s2);
        d3 = Vector.Sum(s3);
        for (; p < k; p++)
        {
            float xp = Unsafe.Add(ref x, p);
            d0 = MathF.FusedMultiplyAdd(xp, Unsafe.Add(ref y0, p), d0);
            d1 = MathF.FusedMultiplyAdd(xp, Unsafe.Add(ref y1, p), d1);
            d2 = MathF.FusedMultiplyAdd(xp, Unsafe.Add(ref y2, p), d2);
            d3 = MathF.FusedMultiplyAdd(xp, Unsafe.Add(ref y3, p), d3);
        }
    }

    private static float Dot(ref float x, ref float y, int k)
    {
        Vector<float> sum = default;
        int p = 0;
        for (; p <= k - Vector<float>.Count; p += Vector<float>.Count)
        {
            sum = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref Unsafe.Add(ref x, p)), Vector.LoadUnsafe(ref Unsafe.Add(ref y, p)), sum);
        }

        float dot = Vector.Sum(sum);
        for (; p < k; p++)
        {
            dot = MathF.FusedMultiplyAdd(Unsafe.Add(ref x, p), Unsafe.Add(ref y, p), dot);
        }

        return dot;
    }

    private static void Scale(ref float row, int n, float factor)
    {
        for (int j = 0; j < n; j++)
        {
            Unsafe.Add(ref row, j) *= factor;
        }
    }
}
