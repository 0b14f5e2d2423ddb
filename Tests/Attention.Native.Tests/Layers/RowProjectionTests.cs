using Attention.Native.Cpu;
using Attention.Native.Cpu.Gemm;

namespace Attention.Native.Tests.Layers;

/// <summary>
/// The decoding steps' projection (<see cref="RowProjection"/>, one to four rows) against a float64 product: odd
/// feature counts (tails of the vector loops, a last block of fewer than 64 W rows), row strides wider than the rows,
/// with and without bias, float/Half/BFloat16, one and two workers, each variant (emulated where this machine lacks it);
/// the columns of Y past the output are untouched.
/// </summary>
public sealed unsafe class RowProjectionTests
{
    [Theory]
    [InlineData(1, 1, 1, true, 1)]
    [InlineData(2, 7, 63, false, 2)]
    [InlineData(3, 65, 130, true, 2)]
    [InlineData(4, 130, 65, true, 1)]
    [InlineData(4, 256, 200, false, 2)]
    public void Float_rows_match_a_float64_product(int rows, int inFeatures, int outFeatures, bool bias, int threads) =>
        Check<float>(rows, inFeatures, outFeatures, bias, threads, 1e-6);

    [Theory]
    [InlineData(1, 33, 70, true, 2)]
    [InlineData(4, 129, 64, false, 1)]
    public void Half_rows_match_a_float64_product(int rows, int inFeatures, int outFeatures, bool bias, int threads) =>
        Check<Half>(rows, inFeatures, outFeatures, bias, threads, 1.0 / 2048);

    [Theory]
    [InlineData(2, 31, 67, true, 2)]
    [InlineData(3, 128, 129, false, 1)]
    public void BFloat16_rows_match_a_float64_product(int rows, int inFeatures, int outFeatures, bool bias, int threads) =>
        Check<BFloat16>(rows, inFeatures, outFeatures, bias, threads, 1.0 / 256);

    /// <remarks>The operands are exact in T and the products are summed in float, so the only rounding beyond float's
    /// is the output's (at most u/2 each, below u in norm).</remarks>
    private static void Check<T>(int rows, int inFeatures, int outFeatures, bool withBias, int threads, double tolerance)
        where T : unmanaged
    {
        foreach (var variant in new[] { CpuKernelVariant.Vector512, CpuKernelVariant.Vector256, CpuKernelVariant.Vector128, CpuKernelVariant.Scalar })
        {
            Check<T>(variant, rows, inFeatures, outFeatures, withBias, threads, tolerance);
        }
    }

    private static void Check<T>(
        CpuKernelVariant variant, int rows, int inFeatures, int outFeatures, bool withBias, int threads, double tolerance)
        where T : unmanaged
    {
        var random = TestRandom.Create((rows * 1000) + inFeatures + outFeatures);
        int ldx = inFeatures + 3, ldy = outFeatures + 5;
        var x = TestData.Random<T>(random, (long)rows * ldx, 1f);
        var weight = TestData.Random<T>(random, (long)outFeatures * inFeatures, 1f / MathF.Sqrt(inFeatures));
        var bias = withBias ? TestData.Random<T>(random, outFeatures, 0.5f) : null;
        var y = TestData.Poison<T>((long)rows * ldy);
        fixed (T* px = x)
        fixed (T* pw = weight)
        fixed (T* pb = bias)
        fixed (T* py = y)
        {
            RowProjection.Run(variant, px, ldx, rows, inFeatures, pw, pb, outFeatures, py, ldy, threads);
        }

        var expected = new double[rows * outFeatures];
        var actual = new float[rows * outFeatures];
        for (int r = 0; r < rows; r++)
        {
            for (int o = 0; o < outFeatures; o++)
            {
                double sum = bias is null ? 0 : TestData.ToDouble(bias[o]);
                for (int i = 0; i < inFeatures; i++)
                {
                    sum += TestData.ToDouble(x[(r * ldx) + i]) * TestData.ToDouble(weight[((long)o * inFeatures) + i]);
                }

                expected[(r * outFeatures) + o] = sum;
                actual[(r * outFeatures) + o] = (float)TestData.ToDouble(y[(r * ldy) + o]);
            }

            for (int o = outFeatures; o < ldy; o++)
            {
                Assert.True(double.IsNaN(TestData.ToDouble(y[(r * ldy) + o])), $"{variant}: y[{r}, {o}] past the output was written");
            }
        }

        LayerFixture.AssertClose(expected, actual, tolerance, $"{variant} output");
    }
}
