namespace Attention.Native.Cpu.Gemm;

/// <summary>One validated SGEMM call on pinned operands (see <see cref="CpuSgemm"/> for the meaning of each).</summary>
/// <typeparam name="T">A's and B's element type: float, or Half/BFloat16 widened as they are packed. C is float.</typeparam>
internal readonly unsafe struct SgemmCall<T>(
    bool transposeA, bool transposeB, int m, int n, int k, float alpha,
    T* a, nint lda, T* b, nint ldb, float beta, float* c, nint ldc)
    where T : unmanaged
{
    public bool TransposeA { get; } = transposeA;

    public bool TransposeB { get; } = transposeB;

    public int M { get; } = m;

    public int N { get; } = n;

    public int K { get; } = k;

    public float Alpha { get; } = alpha;

    public T* A { get; } = a;

    public nint Lda { get; } = lda;

    public T* B { get; } = b;

    public nint Ldb { get; } = ldb;

    public float Beta { get; } = beta;

    public float* C { get; } = c;

    public nint Ldc { get; } = ldc;
}
