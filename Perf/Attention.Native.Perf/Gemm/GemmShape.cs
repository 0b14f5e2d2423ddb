namespace Attention.Native.Perf.Gemm;

/// <summary>
/// One SGEMM problem the <c>gemm</c> command and the benchmarks time: <c>C[m×n] = op(A)·op(B)</c>.
/// <see cref="TransposeB"/> is how a layer applies a PyTorch-style <c>Linear</c> weight: <c>Y = X·Wᵀ</c>.
/// </summary>
public sealed record GemmShape(string Name, int M, int N, int K, bool TransposeA, bool TransposeB)
{
    /// <summary>The cubes, and the attention layer's projections at B·L = 2048, model width 512.</summary>
    public static IReadOnlyList<GemmShape> All { get; } =
    [
        new("1024^3", 1024, 1024, 1024, false, false),
        new("1024^3 Bt", 1024, 1024, 1024, false, true),
        new("2048^3", 2048, 2048, 2048, false, false),
        new("2048^3 Bt", 2048, 2048, 2048, false, true),
        new("proj 2048x512x512", 2048, 512, 512, false, false),
        new("proj 2048x512x512 Bt", 2048, 512, 512, false, true),
        new("qkv 2048x1536x512", 2048, 1536, 512, false, false),
        new("qkv 2048x1536x512 Bt", 2048, 1536, 512, false, true),
    ];

    /// <summary>Multiply-adds count twice.</summary>
    public double Flops => 2.0 * M * N * K;

    /// <summary>The shapes whose name contains one of the comma-separated substrings; all when null or empty.</summary>
    public static IReadOnlyList<GemmShape> Filter(string? filter)
    {
        if (string.IsNullOrWhiteSpace(filter))
        {
            return All;
        }

        string[] parts = filter.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return [.. All.Where(s => parts.Any(p => s.Name.Contains(p, StringComparison.OrdinalIgnoreCase)))];
    }

    public override string ToString() => Name;
}
