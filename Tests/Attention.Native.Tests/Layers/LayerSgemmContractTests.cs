using Attention.Native.Cpu.Gemm;

namespace Attention.Native.Tests.Layers;

/// <summary>
/// The contract the layers rely on from <see cref="CpuSgemm"/>.Multiply (row-major <c>C = alpha·op(A)·op(B) + beta·C</c>,
/// leading dimensions wider than the matrices, beta 0 never reading C), whichever implementation is in the tree.
/// </summary>
public sealed class LayerSgemmContractTests
{
    [Theory]
    [InlineData(false, false, 1f, 0f, 1)]
    [InlineData(false, true, 1f, 0f, 2)]
    [InlineData(true, false, 0.5f, 1f, 3)]
    [InlineData(true, true, -2f, 0.25f, 0)]
    public void Matches_a_float64_product(bool transposeA, bool transposeB, float alpha, float beta, int threads)
    {
        const int m = 37, n = 29, k = 53, pad = 3;
        var random = TestRandom.Create(m + n + k + threads);
        int lda = (transposeA ? m : k) + pad, ldb = (transposeB ? k : n) + pad, ldc = n + pad;
        var a = TestData.Random<float>(random, (transposeA ? k : m) * lda, 1f);
        var b = TestData.Random<float>(random, (transposeB ? n : k) * ldb, 1f);
        // beta 0 must not read C: start it with NaN then.
        var c = beta == 0 ? TestData.Poison<float>(m * ldc) : TestData.Random<float>(random, m * ldc, 1f);
        var expected = new double[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                {
                    s += (double)(transposeA ? a[(p * lda) + i] : a[(i * lda) + p]) * (transposeB ? b[(j * ldb) + p] : b[(p * ldb) + j]);
                }

                expected[(i * n) + j] = (alpha * s) + (beta == 0 ? 0 : beta * (double)c[(i * ldc) + j]);
            }
        }

        CpuSgemm.Multiply(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads);
        var actual = new float[m * n];
        for (int i = 0; i < m; i++)
        {
            Array.Copy(c, i * ldc, actual, i * n, n);
        }

        LayerFixture.AssertClose(expected, actual, 1e-6);
    }
}
