namespace Attention.Native.Cpu.Gemm;

/// <summary>One validated SGEMM call on pinned operands (see <see cref="CpuSgemm"/> for the meaning of each).</summary>
internal readonly unsafe struct SgemmCall(
    bool transposeA, bool transposeB, int m, int n, int k, float alpha,
    float* a, nint lda, float* b, nint ldb, float beta, float* c, nint ldc)
{
    public bool TransposeA { get; } = transposeA;

    public bool TransposeB { get; } = transposeB;

    public int M { get; } = m;

    public int N { get; } = n;

    public int K { get; } = k;

    public float Alpha { get; } = alpha;

    public float* A { get; } = a;

    public nint Lda { get; } = lda;

    public float* B { get; } = b;

    public nint Ldb { get; } = ldb;

    public float Beta { get; } = beta;

    public float* C { get; } = c;

    public nint Ldc { get; } = ldc;
}
