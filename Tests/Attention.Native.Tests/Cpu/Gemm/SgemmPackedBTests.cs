using Attention.Native.Cpu;
using Attention.Native.Cpu.Gemm;

namespace Attention.Native.Tests.Cpu.Gemm;

/// <summary>
/// <see cref="SgemmPackedB"/> and the product on it against a float64 product: each variant, A and B plain and
/// transposed, sizes 1, 7, 63, 65 and 1000 in every dimension (crossing KC and MC), 1 and 2 threads, Half and BFloat16,
/// α and β; B packed once serves many products, and B written after packing changes nothing until it is packed again.
/// </summary>
[Trait("Isa", "Rerun")]
public sealed class SgemmPackedBTests
{
    /// <summary>m × n × k with each of 1, 7, 63, 65 and 1000 in each place (1000 with small partners, for a fast reference).</summary>
    private static readonly (int M, int N, int K)[] Sizes =
    [
        (1, 1, 1), (7, 63, 65), (65, 7, 63), (63, 65, 7), (1000, 7, 65), (7, 1000, 63), (65, 7, 1000), (1, 1000, 7), (1000, 1, 1),
        (170, 40, 300),
    ];

    public static TheoryData<CpuKernelVariant, bool, bool> Combinations()
    {
        var data = new TheoryData<CpuKernelVariant, bool, bool>();
        foreach (var variant in new[] { CpuKernelVariant.Vector512, CpuKernelVariant.Vector256, CpuKernelVariant.Vector128, CpuKernelVariant.Scalar })
        {
            foreach (bool ta in new[] { false, true })
            {
                foreach (bool tb in new[] { false, true })
                {
                    data.Add(variant, ta, tb);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Combinations))]
    public void Prepacked_products_match_float64(CpuKernelVariant variant, bool transposeA, bool transposeB)
    {
        foreach (var (m, n, k) in Sizes)
        {
            new SgemmProblem(transposeA, transposeB, m, n, k) { Prepacked = true }.Check(variant, threads: 2);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(0)]
    public void Any_thread_count_matches_float64(int threads)
    {
        foreach (var (m, n, k) in new[] { (301, 70, 90), (5, 300, 40), (2, 3, 4), (16, 530, 90), (1600, 20, 10) })
        {
            new SgemmProblem(false, true, m, n, k) { Prepacked = true }.Check(CpuKernelVariant.Auto, threads);
        }
    }

    [Theory]
    [InlineData(CpuKernelVariant.Vector256, false, true)]
    [InlineData(CpuKernelVariant.Vector128, true, false)]
    [InlineData(CpuKernelVariant.Scalar, false, false)]
    public void Half_and_bfloat16_alpha_beta_and_padding_match_float64(CpuKernelVariant variant, bool transposeA, bool transposeB)
    {
        foreach (var (m, n, k) in new[] { (7, 65, 63), (63, 7, 300), (13, 40, 70) })
        {
            var problem = new SgemmProblem(transposeA, transposeB, m, n, k) { Prepacked = true, Alpha = -0.75f, Beta = 0.5f, Pad = 3 };
            problem.Check<Half>(variant, threads: 2);
            problem.Check<BFloat16>(variant, threads: 1);
            problem.Check<float>(variant, threads: 2);
        }
    }

    /// <summary>k = 0 and α = 0 scale C; empty products leave it alone.</summary>
    [Theory]
    [InlineData(7, 33, 0, 1f, 0.5f)]
    [InlineData(9, 21, 13, 0f, 0f)]
    [InlineData(0, 5, 3, 1f, 0.5f)]
    [InlineData(4, 0, 3, 1f, 0.5f)]
    public void Degenerate_products_match_float64(int m, int n, int k, float alpha, float beta) =>
        new SgemmProblem(false, true, m, n, k) { Prepacked = true, Alpha = alpha, Beta = beta, Pad = 2 }.Check(CpuKernelVariant.Auto, threads: 2);

    /// <summary>The weights written after packing: products keep the packed values; packing again gives the new result.</summary>
    [Fact]
    public void Weights_written_after_packing_take_effect_when_packed_again()
    {
        const int M = 65, N = 63, K = 300;
        var random = TestRandom.Create(17);
        float[] a = TestData.Random<float>(random, M * K, 1f);
        float[] w = TestData.Random<float>(random, N * K, 1f);
        double[] first = Product(a, w, M, N, K);
        using var packed = SgemmPackedB.Pack<float>(CpuKernelVariant.Auto, transposeB: true, K, N, w, K, threads: 2);
        var c = TestData.Poison<float>(M * N);
        CpuSgemm.Multiply<float>(false, M, 1f, a, K, packed, 0f, c, N, threads: 2);
        AssertClose(first, c);

        float[] updated = TestData.Random<float>(random, N * K, 1f);
        updated.CopyTo(w, 0);
        c = TestData.Poison<float>(M * N);
        CpuSgemm.Multiply<float>(false, M, 1f, a, K, packed, 0f, c, N, threads: 2);
        AssertClose(first, c);

        using var repacked = SgemmPackedB.Pack<float>(CpuKernelVariant.Auto, transposeB: true, K, N, w, K, threads: 2);
        c = TestData.Poison<float>(M * N);
        CpuSgemm.Multiply<float>(false, M, 1f, a, K, repacked, 0f, c, N, threads: 2);
        AssertClose(Product(a, updated, M, N, K), c);
    }

    [Fact]
    public void Bad_arguments_throw_before_anything_is_written()
    {
        var b = new float[12];
        Assert.Throws<ArgumentOutOfRangeException>("ldb", () => SgemmPackedB.Pack<float>(CpuKernelVariant.Auto, true, 4, 3, b, 3, 1));
        Assert.Throws<ArgumentException>("b", () => SgemmPackedB.Pack<float>(CpuKernelVariant.Auto, true, 5, 3, b, 5, 1));
        Assert.Throws<ArgumentOutOfRangeException>("k", () => SgemmPackedB.Pack<float>(CpuKernelVariant.Auto, true, -1, 3, b, 4, 1));
        using var packed = SgemmPackedB.Pack<float>(CpuKernelVariant.Auto, true, 4, 3, b, 4, 1);
        var c = TestData.Poison<float>(6);
        Assert.Throws<ArgumentException>("a", () => CpuSgemm.Multiply<float>(false, 2, 1f, new float[7], 4, packed, 0f, c, 3, 1));
        Assert.Throws<ArgumentException>("c", () => CpuSgemm.Multiply<float>(false, 2, 1f, new float[8], 4, packed, 0f, new float[5], 3, 1));
        Assert.Throws<ArgumentOutOfRangeException>("lda", () => CpuSgemm.Multiply<float>(false, 2, 1f, new float[8], 3, packed, 0f, c, 3, 1));
        Assert.Throws<ArgumentOutOfRangeException>("m", () => CpuSgemm.Multiply<float>(false, -1, 1f, new float[8], 4, packed, 0f, c, 3, 1));
        Assert.All(c, v => Assert.True(float.IsNaN(v)));
        packed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => CpuSgemm.Multiply<float>(false, 2, 1f, new float[8], 4, packed, 0f, c, 3, 1));
    }

    /// <summary>X·Wᵀ in float64.</summary>
    private static double[] Product(float[] a, float[] w, int m, int n, int k)
    {
        var result = new double[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    sum += (double)a[(i * k) + p] * w[(j * k) + p];
                }

                result[(i * n) + j] = sum;
            }
        }

        return result;
    }

    private static void AssertClose(double[] expected, float[] actual)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-4, $"C[{i}] = {actual[i]}, expected {expected[i]}");
        }
    }
}
