using Attention.Native.Cpu.Simd;

namespace Attention.Native.Cpu.Gemm;

/// <summary>
/// Single-precision matrix product on the CPU: packed, cache-blocked (<see cref="SgemmBlocking"/>), register-tiled
/// (<see cref="SgemmMicroKernel{TOps, TVec}"/>) and multi-threaded, in a kernel variant (<see cref="CpuIsa.Dispatch{TKernel}"/>;
/// <see cref="CpuKernelVariant.Auto"/>: as <see cref="CpuIsa.Resolve"/> picks it, the widest accelerated one or
/// <c>ATTENTION_NATIVE_CPU_VARIANT</c>). Every variant runs its own register tile: 6 × 2W floats, W its vector width
/// (6 × 2 for Scalar).
/// </summary>
internal static unsafe class CpuSgemm
{
    /// <summary>C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C, all row-major; op(X) = Xᵀ when transposeX.</summary>
    /// <remarks>
    /// A is m×k (lda ≥ k) or, transposed, k×m (lda ≥ m); B is k×n (ldb ≥ n) or, transposed, n×k (ldb ≥ k); ldc ≥ n.
    /// beta == 0 means C is not read (may hold NaN). threads ≤ 0 = all processors. Sums are accumulated in float.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">m, n or k is negative, or a leading dimension is below its width.</exception>
    /// <exception cref="ArgumentException">a, b or c is shorter than its size and leading dimension require.</exception>
    public static void Multiply(bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc, int threads) =>
        Multiply(CpuKernelVariant.Auto, transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads);

    /// <summary>
    /// <see cref="Multiply(bool, bool, int, int, int, float, ReadOnlySpan{float}, int, ReadOnlySpan{float}, int, float, Span{float}, int, int)"/>
    /// in a chosen kernel variant (<see cref="CpuKernelVariant.Auto"/>: as the attention kernels resolve it).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">As the other overload, or <paramref name="variant"/> is undefined.</exception>
    /// <exception cref="ArgumentException">As the other overload.</exception>
    public static void Multiply(CpuKernelVariant variant, bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc, int threads) =>
        Multiply<float>(variant, transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads);

    /// <summary>
    /// The product with Half or BFloat16 (or float) A and B and a float C: the operands are widened as they are packed,
    /// so nothing of their size is converted or kept beyond the packing's blocks; products accumulate in float.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">As the float overload.</exception>
    /// <exception cref="ArgumentException">As the float overload.</exception>
    public static void Multiply<T>(CpuKernelVariant variant, bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, float beta, Span<float> c, int ldc, int threads)
        where T : unmanaged
    {
        ElementType.ThrowIfNotOperand<T>();
        SgemmArguments.Validate(transposeA, transposeB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        threads = threads <= 0 ? Environment.ProcessorCount : threads;
        fixed (T* pa = a)
        fixed (T* pb = b)
        fixed (float* pc = c)
        {
            var kernel = new Kernel<T>(new SgemmCall<T>(transposeA, transposeB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc), threads);
            CpuIsa.Dispatch(variant, ref kernel);
        }
    }

    /// <summary>
    /// <c>C[m×n] = alpha · op(A)[m×k] · B[k×n] + beta · C</c> on a B packed ahead (<see cref="SgemmPackedB.Pack"/>; k and n
    /// are its), in the variant it was packed for: nothing of B is packed again.
    /// </summary>
    /// <remarks>A is m×k (lda ≥ k) or, transposed, k×m (lda ≥ m); ldc ≥ n. beta == 0 means C is not read. threads ≤ 0 = all processors.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">m is negative or a leading dimension is below its width.</exception>
    /// <exception cref="ArgumentException">a or c is shorter than its size and leading dimension require.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="b"/> was disposed.</exception>
    public static void Multiply<T>(bool transposeA, int m, float alpha, ReadOnlySpan<T> a, int lda, SgemmPackedB b, float beta,
        Span<float> c, int ldc, int threads)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(b);
        ElementType.ThrowIfNotOperand<T>();
        SgemmArguments.ValidateAc(transposeA, m, b.Columns, b.Depth, a.Length, lda, c.Length, ldc);
        var panel = b.Panel;
        threads = threads <= 0 ? Environment.ProcessorCount : threads;
        fixed (T* pa = a)
        fixed (float* pc = c)
        {
            var call = new SgemmCall<T>(transposeA, false, m, b.Columns, b.Depth, alpha, pa, lda, null, 0, beta, pc, ldc);
            var kernel = new PackedKernel<T>(call, panel, threads);
            CpuIsa.Dispatch(b.Variant, ref kernel);
        }

        GC.KeepAlive(b);
    }

    private readonly struct PackedKernel<T>(SgemmCall<T> call, PackedPanel panel, int threads) : ISimdKernel
        where T : unmanaged
    {
        public void Run<TOps, TVec>()
            where TOps : ISimd<TVec>
            where TVec : unmanaged
        {
            CpuIsaObserver.Ran<TOps, TVec>(CpuOperation.Sgemm);
            if (call.M == 0 || call.N == 0)
            {
                return;
            }

            if (call.K == 0 || call.Alpha == 0f)
            {
                SgemmScaling.ScaleC(call);
                return;
            }

            SgemmPanelDriver<TOps, TVec>.Multiply(call, panel, threads);
        }
    }

    private readonly struct Kernel<T>(SgemmCall<T> call, int threads) : ISimdKernel
        where T : unmanaged
    {
        public void Run<TOps, TVec>()
            where TOps : ISimd<TVec>
            where TVec : unmanaged
        {
            CpuIsaObserver.Ran<TOps, TVec>(CpuOperation.Sgemm);
            SgemmDriver<TOps, TVec>.Run(call, threads);
        }
    }
}
