using Attention.Native.Cpu.Simd;

namespace Attention.Native.Cpu.Gemm;

/// <summary>
/// op(B) packed once for many products (<see cref="CpuSgemm.Multiply{T}(bool, int, float, ReadOnlySpan{T}, int, SgemmPackedB, float, Span{float}, int, int)"/>):
/// a weight matrix that does not change, packed when it is loaded, as a runtime prepacks a model's constant weights.
/// Floats whatever the source's type (Half and BFloat16 are widened once, here), in the layout of one kernel variant:
/// products run in that variant. Immutable after packing, so products on several threads may share it; it does not
/// follow later changes of the source, which a caller packs again.
/// </summary>
internal sealed unsafe class SgemmPackedB : IDisposable
{
    private readonly AlignedMemoryHandle memory;

    private SgemmPackedB(CpuKernelVariant variant, int depth, int columns, int nr)
    {
        Variant = variant;
        Depth = depth;
        Columns = columns;
        NR = nr;
        // It lives as long as its layer, like a tensor: reported to the GC, so that undisposed ones are collected by size.
        memory = new AlignedMemoryHandle((nuint)PackedPanel.Floats(depth, columns, nr) * sizeof(float), zero: false, gcPressure: true);
    }

    /// <summary>The variant the layout is for (never <see cref="CpuKernelVariant.Auto"/>).</summary>
    public CpuKernelVariant Variant { get; }

    /// <summary>K: rows of op(B).</summary>
    public int Depth { get; }

    /// <summary>N: columns of op(B).</summary>
    public int Columns { get; }

    private int NR { get; }

    internal PackedPanel Panel
    {
        get
        {
            ObjectDisposedException.ThrowIf(memory.IsClosed, this);
            return new PackedPanel((float*)memory.Pointer, Depth, Columns, NR);
        }
    }

    /// <summary>Packs op(B), <paramref name="k"/> × <paramref name="n"/>: B is k × n (ldb ≥ n) or, transposed, n × k (ldb ≥ k; a weight <c>[out, in]</c> used as Wᵀ).</summary>
    /// <param name="variant">The variant of the products (<see cref="CpuKernelVariant.Auto"/>: as <see cref="CpuIsa.Resolve"/> picks it, now).</param>
    /// <param name="transposeB">Whether B is stored n × k.</param>
    /// <param name="k">Rows of op(B).</param>
    /// <param name="n">Columns of op(B).</param>
    /// <param name="b">B's storage.</param>
    /// <param name="ldb">B's leading dimension.</param>
    /// <param name="threads">Threads that pack (≤ 0: all processors).</param>
    /// <exception cref="ArgumentOutOfRangeException">k or n is negative, ldb is below its width, or the variant is undefined.</exception>
    /// <exception cref="ArgumentException">b is shorter than its size and leading dimension require.</exception>
    public static SgemmPackedB Pack<T>(CpuKernelVariant variant, bool transposeB, int k, int n, ReadOnlySpan<T> b, int ldb, int threads)
        where T : unmanaged
    {
        ElementType.ThrowIfNotOperand<T>();
        SgemmArguments.ValidateB(transposeB, k, n, b.Length, ldb);
        variant = CpuIsa.Resolve(variant);
        threads = threads <= 0 ? Environment.ProcessorCount : threads;
        fixed (T* pb = b)
        {
            var kernel = new PackKernel<T>(variant, transposeB, k, n, pb, ldb, threads);
            CpuIsa.Dispatch(variant, ref kernel);
            return kernel.Packed!;
        }
    }

    public void Dispose() => memory.Dispose();

    private struct PackKernel<T>(CpuKernelVariant variant, bool transposeB, int k, int n, T* b, int ldb, int threads) : ISimdKernel
        where T : unmanaged
    {
        public SgemmPackedB? Packed { get; private set; }

        public void Run<TOps, TVec>()
            where TOps : ISimd<TVec>
            where TVec : unmanaged
        {
            var packed = new SgemmPackedB(variant, k, n, 2 * TOps.Width);
            if (k > 0 && n > 0)
            {
                SgemmPanelDriver<TOps, TVec>.Pack(b, ldb, transposeB, 0, packed.Panel, threads);
            }

            Packed = packed;
        }
    }
}
