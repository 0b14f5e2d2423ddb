using Attention.Native.Cpu;

namespace Attention.Native.Tests.Cpu.Gemm;

/// <summary>
/// The rows left below the last whole six-row tile (m mod 6 = 1 to 5), which run a tile of their own row count straight
/// into C: every remainder, full-width and cut column slivers, one and several tiles tall, β = 0 (C poisoned) and
/// β ≠ 0 with padded C rows (which must stay untouched), packed-ahead and per-call B, each variant. Plain float A of at
/// most one row block is read in place (odd m here, with padded rows), transposed A packed (even m).
/// </summary>
[Trait("Isa", "Rerun")]
public sealed class SgemmEdgeRowsTests
{
    /// <summary>Each remainder of 6 once below one tile and once below several; 16 and 64 are the sentence rows of a small batch.</summary>
    private static readonly int[] Rows = [1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 13, 16, 63, 64, 65];

    public static TheoryData<CpuKernelVariant, bool> Combinations()
    {
        var data = new TheoryData<CpuKernelVariant, bool>();
        foreach (var variant in new[] { CpuKernelVariant.Vector512, CpuKernelVariant.Vector256, CpuKernelVariant.Vector128, CpuKernelVariant.Scalar })
        {
            data.Add(variant, false);
            data.Add(variant, true);
        }

        return data;
    }

    /// <summary>n = 64 is whole slivers in every variant, 65 and 7 cut the last; k = 300 crosses a depth slice.</summary>
    [Theory]
    [MemberData(nameof(Combinations))]
    public void Remainder_rows_match_float64(CpuKernelVariant variant, bool prepacked)
    {
        foreach (int m in Rows)
        {
            foreach (var (n, k) in new[] { (64, 300), (65, 7), (7, 63) })
            {
                new SgemmProblem(false, true, m, n, k) { Prepacked = prepacked }.Check(variant, threads: 1);
                new SgemmProblem(m % 2 == 0, false, m, n, k) { Prepacked = prepacked, Alpha = -0.5f, Beta = 0.75f, Pad = 3 }.Check(variant, threads: 2);
            }
        }
    }

    /// <summary>A tall C whose last block leaves a remainder: 1000 rows (the 168-row blocks leave 160, 26 tiles and 4 rows).</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Tall_products_with_remainder_rows_match_float64(int threads)
    {
        new SgemmProblem(false, true, 1000, 48, 65) { Prepacked = true }.Check(CpuKernelVariant.Auto, threads);
        new SgemmProblem(false, true, 1000, 48, 65) { Beta = 1f }.Check(CpuKernelVariant.Auto, threads);
    }
}
