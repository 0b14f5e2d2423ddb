using Attention.Native.Cpu;
using Attention.Native.Cpu.Gemm;

namespace Attention.Native.Tests.Cpu.Gemm;

/// <summary>Bad arguments are rejected before any work, with the offending parameter named.</summary>
public sealed class CpuSgemmArgumentTests
{
    private const float Sentinel = -31.5f;

    /// <summary>A valid call (A 4×5, Bᵀ 6×5, C 4×6, all unpadded) unless a test changes an argument.</summary>
    private sealed record Call(int M = 4, int N = 6, int K = 5, int Lda = 5, int Ldb = 5, int Ldc = 6,
        int ALength = 20, int BLength = 30, int CLength = 24, CpuKernelVariant Variant = CpuKernelVariant.Auto)
    {
        public float[] C { get; } = Filled(Math.Max(CLength, 0));

        public void Run() => CpuSgemm.Multiply(Variant, false, true, M, N, K, 1f,
            Filled(ALength), Lda, Filled(BLength), Ldb, 0f, C, Ldc, threads: 2);

        private static float[] Filled(int length)
        {
            var values = new float[length];
            Array.Fill(values, Sentinel);
            return values;
        }
    }

    [Theory]
    [InlineData("m")]
    [InlineData("n")]
    [InlineData("k")]
    public void Negative_size_throws(string parameter)
    {
        var call = parameter switch
        {
            "m" => new Call(M: -1),
            "n" => new Call(N: -1),
            _ => new Call(K: -1),
        };
        var error = Assert.Throws<ArgumentOutOfRangeException>(call.Run);
        Assert.Equal(parameter, error.ParamName);
        Assert.All(call.C, x => Assert.Equal(Sentinel, x));
    }

    /// <summary>A leading dimension below its stored width (A: k, Bᵀ: k, C: n), or 0 for an empty matrix.</summary>
    [Theory]
    [InlineData("lda", 4, 5, 6)]
    [InlineData("ldb", 5, 4, 6)]
    [InlineData("ldc", 5, 5, 5)]
    [InlineData("lda", 0, 5, 6)]
    public void Short_leading_dimension_throws(string parameter, int lda, int ldb, int ldc)
    {
        var call = new Call(Lda: lda, Ldb: ldb, Ldc: ldc);
        var error = Assert.Throws<ArgumentOutOfRangeException>(call.Run);
        Assert.Equal(parameter, error.ParamName);
        Assert.All(call.C, x => Assert.Equal(Sentinel, x));
    }

    [Fact]
    public void Empty_matrix_still_needs_a_positive_leading_dimension()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(new Call(N: 0, BLength: 0, CLength: 0, Ldc: 0).Run);
        Assert.Equal("ldc", error.ParamName);
    }

    /// <summary>Spans one element short of what size and leading dimension need (the last row is not padded).</summary>
    [Theory]
    [InlineData("a", 19, 30, 24, 5)]
    [InlineData("b", 20, 29, 24, 5)]
    [InlineData("c", 20, 30, 23, 6)]
    [InlineData("c", 20, 30, 29, 8)]
    public void Short_span_throws(string parameter, int aLength, int bLength, int cLength, int ldc)
    {
        var call = new Call(ALength: aLength, BLength: bLength, CLength: cLength, Ldc: ldc);
        var error = Assert.Throws<ArgumentException>(call.Run);
        Assert.Equal(parameter, error.ParamName);
        Assert.All(call.C, x => Assert.Equal(Sentinel, x));
    }

    [Fact]
    public void Exact_lengths_with_padded_rows_are_accepted()
    {
        // C 4×6 at ldc 8: 3·8 + 6 = 30 elements, the last row's padding absent.
        var call = new Call(Ldc: 8, CLength: 30);
        call.Run();
        Assert.Equal(5 * Sentinel * Sentinel, call.C[0]);
    }

    [Fact]
    public void Undefined_variant_throws()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(new Call(Variant: (CpuKernelVariant)99).Run);
        Assert.Equal("variant", error.ParamName);
    }
}
