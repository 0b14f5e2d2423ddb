using Attention.Native.Cpu;
using Attention.Native.Cpu.Gemm;

namespace Attention.Native.Tests.Cpu.Gemm;

/// <summary>
/// One SGEMM call on fresh random operands (never zeros), stored with leading dimensions <see cref="Pad"/> wider than
/// needed, and its float64 reference.
/// </summary>
public sealed record SgemmProblem(bool TransposeA, bool TransposeB, int M, int N, int K)
{
    public float Alpha { get; init; } = 1f;

    public float Beta { get; init; }

    /// <summary>Whether B is packed ahead (<see cref="SgemmPackedB"/>) and multiplied by the prepacked entry.</summary>
    public bool Prepacked { get; init; }

    /// <summary>Extra elements in every leading dimension.</summary>
    public int Pad { get; init; }

    /// <summary>Seeded by the shape (its description, hashed the same in every process), so a failure reproduces.</summary>
    public int Seed => TestRandom.SeedOf(ToString());

    public int Lda => Math.Max(1, TransposeA ? M : K) + Pad;

    public int Ldb => Math.Max(1, TransposeB ? K : N) + Pad;

    public int Ldc => Math.Max(1, N) + Pad;

    public override string ToString() =>
        $"{(TransposeA ? "Aᵀ" : "A")}·{(TransposeB ? "Bᵀ" : "B")} {M}×{N}×{K} α={Alpha} β={Beta} pad={Pad}{(Prepacked ? " prepacked" : string.Empty)}";

    /// <summary>
    /// Runs the product in <paramref name="variant"/> on <paramref name="threads"/> threads and checks it: relative
    /// Frobenius error ≤ 1e-5 and every element within (k + 2)·ε of its own magnitude scale, and C's padding
    /// untouched. β = 0 runs on a NaN-filled C, which must not leak through.
    /// </summary>
    public void Check(CpuKernelVariant variant, int threads) => Check<float>(variant, threads);

    /// <summary>The same with A and B of <typeparamref name="T"/> (Half/BFloat16 are widened as they are packed; their
    /// values are exact in float, so the bounds are float's).</summary>
    public void Check<T>(CpuKernelVariant variant, int threads)
        where T : unmanaged
    {
        var random = TestRandom.Create(Seed);
        T[] a = TestData.Random<T>(random, Length(TransposeA ? K : M, TransposeA ? M : K, Lda), 1f);
        T[] b = TestData.Random<T>(random, Length(TransposeB ? N : K, TransposeB ? K : N, Ldb), 1f);
        float[] c = Beta == 0f ? TestData.Poison<float>(Length(M, N, Ldc)) : TestData.Random<float>(random, Length(M, N, Ldc), 1f);
        float[] before = (float[])c.Clone();

        if (Prepacked)
        {
            using var packed = SgemmPackedB.Pack<T>(variant, TransposeB, K, N, b, Ldb, threads);
            // The packed copy is what is multiplied: B's storage may change (here: NaN) once it is packed.
            var packedValues = (T[])b.Clone();
            Array.Fill(b, TestData.FromSingle<T>(float.NaN));
            CpuSgemm.Multiply<T>(TransposeA, M, Alpha, a, Lda, packed, Beta, c, Ldc, threads);
            b = packedValues;
        }
        else
        {
            CpuSgemm.Multiply<T>(variant, TransposeA, TransposeB, M, N, K, Alpha, a, Lda, b, Ldb, Beta, c, Ldc, threads);
        }

        // The norm check is against Σ|α·a·b| + |β·c| per element (not |C|): a short dot product of random signs can
        // cancel to almost nothing, and float rounding is relative to the terms, not to their sum.
        double errorSquared = 0, magnitudeSquared = 0;
        for (int i = 0; i < M; i++)
        {
            for (int j = 0; j < N; j++)
            {
                double dot = 0, scale = 0;
                for (int p = 0; p < K; p++)
                {
                    double x = TestData.ToDouble(a[TransposeA ? (p * Lda) + i : (i * Lda) + p]);
                    double y = TestData.ToDouble(b[TransposeB ? (j * Ldb) + p : (p * Ldb) + j]);
                    dot += x * y;
                    scale += Math.Abs(x * y);
                }

                double old = Beta == 0f ? 0 : before[(i * Ldc) + j];
                double expected = (Alpha * dot) + (Beta * old);
                double actual = c[(i * Ldc) + j];
                double bound = ((K + 2) * 1.2e-7 * ((Math.Abs(Alpha) * scale) + Math.Abs(Beta * old))) + 1e-30;
                Assert.True(Math.Abs(actual - expected) <= bound,
                    $"{this} {typeof(T).Name}, {variant}, {threads} threads: C[{i},{j}] = {actual}, expected {expected} (bound {bound:E2}; {TestRandom.Describe(Seed)})");
                errorSquared += (actual - expected) * (actual - expected);
                double magnitude = (Math.Abs(Alpha) * scale) + Math.Abs(Beta * old);
                magnitudeSquared += magnitude * magnitude;
            }

            for (int j = N; j < Ldc && (i * Ldc) + j < c.Length; j++)
            {
                Assert.Equal(before[(i * Ldc) + j], c[(i * Ldc) + j]);
            }
        }

        double relative = magnitudeSquared == 0 ? Math.Sqrt(errorSquared) : Math.Sqrt(errorSquared / magnitudeSquared);
        Assert.True(relative <= 1e-5, $"{this}, {variant}, {threads} threads: relative error {relative:E2} ({TestRandom.Describe(Seed)})");
    }

    /// <summary>Exactly what the leading dimension requires (the last row unpadded), so an overrun would throw.</summary>
    private static long Length(int rows, int width, int ld) => rows == 0 || width == 0 ? 0 : ((long)(rows - 1) * ld) + width;
}
