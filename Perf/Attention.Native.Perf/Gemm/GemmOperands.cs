namespace Attention.Native.Perf.Gemm;

/// <summary>Random operands of a <see cref="GemmShape"/> (±[0.05, 1], never zero), stored as the shape's transposes say.</summary>
internal sealed record GemmOperands(float[] A, int Lda, float[] B, int Ldb, float[] C)
{
    public static GemmOperands Create(GemmShape shape, Random random)
    {
        var a = Fill(new float[(long)shape.M * shape.K], random);
        var b = Fill(new float[(long)shape.K * shape.N], random);
        return new GemmOperands(a, shape.TransposeA ? shape.M : shape.K, b, shape.TransposeB ? shape.K : shape.N,
            new float[(long)shape.M * shape.N]);
    }

    public void Multiply(GemmShape shape, int threads, Cpu.CpuKernelVariant variant) =>
        Cpu.Gemm.CpuSgemm.Multiply(variant, shape.TransposeA, shape.TransposeB, shape.M, shape.N, shape.K, 1f,
            A, Lda, B, Ldb, 0f, C, shape.N, threads);

    /// <summary>
    /// ‖C − R‖ / ‖R‖ over <paramref name="sampleRows"/> rows spread evenly over C (all rows when C has fewer), with
    /// R computed in float64: a full float64 product of 2048³ would take longer than the whole timing run.
    /// </summary>
    public double RelativeError(GemmShape shape, int sampleRows)
    {
        int rows = Math.Min(sampleRows, shape.M);
        var reference = new double[shape.N];
        double errorSquared = 0, referenceSquared = 0;
        for (int s = 0; s < rows; s++)
        {
            int i = (int)((long)s * shape.M / rows);
            Array.Clear(reference);
            for (int p = 0; p < shape.K; p++)
            {
                double x = shape.TransposeA ? A[((long)p * Lda) + i] : A[((long)i * Lda) + p];
                for (int j = 0; j < shape.N; j++)
                {
                    reference[j] += x * (shape.TransposeB ? B[((long)j * Ldb) + p] : B[((long)p * Ldb) + j]);
                }
            }

            for (int j = 0; j < shape.N; j++)
            {
                double d = C[((long)i * shape.N) + j] - reference[j];
                errorSquared += d * d;
                referenceSquared += reference[j] * reference[j];
            }
        }

        return Math.Sqrt(errorSquared / referenceSquared);
    }

    private static float[] Fill(float[] values, Random random)
    {
        for (int i = 0; i < values.Length; i++)
        {
            float magnitude = 0.05f + (0.95f * random.NextSingle());
            values[i] = random.Next(2) == 0 ? magnitude : -magnitude;
        }

        return values;
    }
}
