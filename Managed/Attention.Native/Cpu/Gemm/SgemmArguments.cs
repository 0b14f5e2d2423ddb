namespace Attention.Native.Cpu.Gemm;

/// <summary>Argument checks of <see cref="CpuSgemm.Multiply(bool, bool, int, int, int, float, ReadOnlySpan{float}, int, ReadOnlySpan{float}, int, float, Span{float}, int, int)"/>.</summary>
internal static class SgemmArguments
{
    /// <exception cref="ArgumentOutOfRangeException">A size is negative or a leading dimension is below its width.</exception>
    /// <exception cref="ArgumentException">A span is shorter than its leading dimension requires.</exception>
    public static void Validate(bool transposeA, bool transposeB, int m, int n, int k,
        int aLength, int lda, int bLength, int ldb, int cLength, int ldc)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        CheckMatrix(rows: transposeA ? k : m, width: transposeA ? m : k, aLength, lda, "a", "lda");
        CheckMatrix(rows: transposeB ? n : k, width: transposeB ? k : n, bLength, ldb, "b", "ldb");
        CheckMatrix(rows: m, width: n, cLength, ldc, "c", "ldc");
    }

    /// <summary>The checks of B alone (a B packed ahead: <see cref="SgemmPackedB"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">k or n is negative, or ldb is below its width.</exception>
    /// <exception cref="ArgumentException">b is shorter than its leading dimension requires.</exception>
    public static void ValidateB(bool transposeB, int k, int n, int bLength, int ldb)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        CheckMatrix(rows: transposeB ? n : k, width: transposeB ? k : n, bLength, ldb, "b", "ldb");
    }

    /// <summary>The checks of A and C for a product on a B packed ahead of <paramref name="k"/> × <paramref name="n"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">m is negative or a leading dimension is below its width.</exception>
    /// <exception cref="ArgumentException">a or c is shorter than its leading dimension requires.</exception>
    public static void ValidateAc(bool transposeA, int m, int n, int k, int aLength, int lda, int cLength, int ldc)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        CheckMatrix(rows: transposeA ? k : m, width: transposeA ? m : k, aLength, lda, "a", "lda");
        CheckMatrix(rows: m, width: n, cLength, ldc, "c", "ldc");
    }

    /// <summary>Elements a row-major <paramref name="rows"/> × <paramref name="width"/> matrix spans at stride <paramref name="ld"/>.</summary>
    public static long RequiredLength(int rows, int width, int ld) =>
        rows == 0 || width == 0 ? 0 : ((long)(rows - 1) * ld) + width;

    private static void CheckMatrix(int rows, int width, int length, int ld, string spanName, string ldName)
    {
        // BLAS's rule: a leading dimension is at least 1 even for an empty matrix.
        if (ld < Math.Max(width, 1))
        {
            throw new ArgumentOutOfRangeException(ldName, ld, $"{ldName} must be at least max(1, {width}), the stored row width.");
        }

        long required = RequiredLength(rows, width, ld);
        if (length < required)
        {
            throw new ArgumentException(
                $"{spanName} holds {length} elements; a {rows} × {width} matrix with leading dimension {ld} needs {required}.",
                spanName);
        }
    }
}
