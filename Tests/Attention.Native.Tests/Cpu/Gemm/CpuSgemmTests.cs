using Attention.Native.Cpu;

namespace Attention.Native.Tests.Cpu.Gemm;

/// <summary>
/// <c>CpuSgemm</c> against a float64 product: each ISA variant (emulated where this machine lacks it) on every
/// transpose combination and sizes around the register tile and the cache blocks, then α/β, padding and threads.
/// </summary>
[Trait("Isa", "Rerun")]
public sealed class CpuSgemmTests
{
    private static readonly CpuKernelVariant[] Variants =
        [CpuKernelVariant.Vector512, CpuKernelVariant.Vector256, CpuKernelVariant.Vector128, CpuKernelVariant.Scalar];

    /// <summary>m × n × k: ones, odd sizes either side of 64 and 128, non-square, and past KC (256) and MC (168).</summary>
    private static readonly (int M, int N, int K)[] Sizes =
    [
        (1, 1, 1), (1, 7, 5), (7, 1, 9), (7, 7, 7), (63, 65, 127), (65, 63, 1), (127, 33, 65), (13, 257, 31),
        (257, 19, 263), (170, 40, 300),
    ];

    public static TheoryData<CpuKernelVariant, bool, bool, int, int, int> VariantCases()
    {
        var data = new TheoryData<CpuKernelVariant, bool, bool, int, int, int>();
        foreach (var variant in Variants)
        {
            foreach (bool ta in new[] { false, true })
            {
                foreach (bool tb in new[] { false, true })
                {
                    foreach (var (m, n, k) in Sizes)
                    {
                        data.Add(variant, ta, tb, m, n, k);
                    }
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(VariantCases))]
    public void Each_variant_matches_float64(CpuKernelVariant variant, bool transposeA, bool transposeB, int m, int n, int k) =>
        new SgemmProblem(transposeA, transposeB, m, n, k).Check(variant, threads: 2);

    /// <summary>
    /// Half and BFloat16 A and B (the layers' 16-bit projections), widened as they are packed: every transpose
    /// combination, whole and cut slivers and depth tails, padded leading dimensions, the vector variants and scalar.
    /// </summary>
    [Theory]
    [InlineData(CpuKernelVariant.Vector256, false, true)]
    [InlineData(CpuKernelVariant.Vector256, false, false)]
    [InlineData(CpuKernelVariant.Vector256, true, true)]
    [InlineData(CpuKernelVariant.Vector256, true, false)]
    [InlineData(CpuKernelVariant.Vector512, false, true)]
    [InlineData(CpuKernelVariant.Vector128, true, false)]
    [InlineData(CpuKernelVariant.Scalar, false, true)]
    public void Half_and_bfloat16_operands_match_float64(CpuKernelVariant variant, bool transposeA, bool transposeB)
    {
        foreach (var (m, n, k) in new[] { (7, 1, 9), (13, 40, 70), (63, 65, 127), (170, 40, 300) })
        {
            var problem = new SgemmProblem(transposeA, transposeB, m, n, k) { Pad = 3, Beta = 0.5f };
            problem.Check<Half>(variant, threads: 2);
            problem.Check<BFloat16>(variant, threads: 1);
        }
    }

    /// <summary>α and β, including β = 0 on a NaN-filled C and k = 0 (C = β·C), on padded leading dimensions.</summary>
    [Theory]
    [InlineData(false, false, 0.75f, -1.25f, 3)]
    [InlineData(true, true, -2f, 0.5f, 1)]
    [InlineData(false, true, 1f, 1f, 5)]
    [InlineData(true, false, 0.5f, 0f, 4)]
    [InlineData(false, true, -1f, 0f, 17)]
    public void Alpha_beta_and_padding_match_float64(bool transposeA, bool transposeB, float alpha, float beta, int pad)
    {
        foreach (var variant in new[] { CpuKernelVariant.Auto, CpuKernelVariant.Vector128, CpuKernelVariant.Scalar })
        {
            foreach (var (m, n, k) in new[] { (65, 127, 63), (7, 33, 0), (1, 1, 257), (257, 17, 9) })
            {
                new SgemmProblem(transposeA, transposeB, m, n, k) { Alpha = alpha, Beta = beta, Pad = pad }.Check(variant, threads: 3);
            }
        }
    }

    /// <summary>α = 0 reads neither A nor B: C = β·C, and zeros (not NaN) for β = 0.</summary>
    [Theory]
    [InlineData(0f)]
    [InlineData(2f)]
    public void Alpha_zero_scales_c(float beta) =>
        new SgemmProblem(false, true, 9, 21, 13) { Alpha = 0f, Beta = beta, Pad = 2 }.Check(CpuKernelVariant.Auto, threads: 2);

    /// <summary>Parts cut across rows (tall C) and across columns (short, wide C), more parts than tiles, all cores.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(0)]
    public void Any_thread_count_matches_float64(int threads)
    {
        new SgemmProblem(false, true, 301, 70, 90).Check(CpuKernelVariant.Auto, threads);
        new SgemmProblem(true, false, 5, 300, 40).Check(CpuKernelVariant.Auto, threads);
        new SgemmProblem(false, false, 2, 3, 4).Check(CpuKernelVariant.Auto, threads);

        // Enough rows for two parts per thread.
        new SgemmProblem(false, true, 1600, 20, 10).Check(CpuKernelVariant.Auto, threads);
    }

    /// <summary>C wider than one packed B panel (NC = 4096 columns).</summary>
    [Fact]
    public void Wider_than_a_b_panel_matches_float64() =>
        new SgemmProblem(false, true, 7, 4100, 3) { Beta = 0.5f, Pad = 1 }.Check(CpuKernelVariant.Auto, threads: 2);

    /// <summary>Empty products leave C alone (m or n = 0) or touch nothing at all.</summary>
    [Theory]
    [InlineData(0, 5, 3)]
    [InlineData(4, 0, 3)]
    [InlineData(0, 0, 0)]
    public void Empty_products_match_float64(int m, int n, int k) =>
        new SgemmProblem(false, false, m, n, k) { Beta = 0.5f }.Check(CpuKernelVariant.Auto, threads: 2);
}
