namespace TrainSample;

/// <summary>Small dense helpers of the model outside the attention layers (embeddings, the vocabulary projection).</summary>
internal static class Parameters
{
    public static float[] Gaussian(Random random, int length, float scale) =>
        [.. Enumerable.Range(0, length).Select(_ => scale * (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())))];

    /// <summary>Sinusoidal position encodings (Vaswani et al.), <c>[length, dim]</c>.</summary>
    public static float[] Positions(int length, int dim)
    {
        var result = new float[length * dim];
        for (int position = 0; position < length; position++)
        {
            for (int i = 0; i < dim; i++)
            {
                double angle = position / Math.Pow(10000, 2.0 * (i / 2) / dim);
                result[(position * dim) + i] = (float)(i % 2 == 0 ? Math.Sin(angle) : Math.Cos(angle));
            }
        }

        return result;
    }

    /// <summary>Rows of <paramref name="table"/> picked by <paramref name="tokens"/>, plus the position encodings.</summary>
    public static float[] Embed(float[] table, int[] tokens, float[] positions, int length, int dim)
    {
        var result = new float[tokens.Length * dim];
        for (int t = 0; t < tokens.Length; t++)
        {
            for (int i = 0; i < dim; i++)
            {
                result[(t * dim) + i] = table[(tokens[t] * dim) + i] + positions[((t % length) * dim) + i];
            }
        }

        return result;
    }

    /// <summary>The embedding table's gradient: each token's row gets its positions' gradients added.</summary>
    public static void EmbedBackward(float[] tableGrad, int[] tokens, float[] grad, int dim)
    {
        for (int t = 0; t < tokens.Length; t++)
        {
            for (int i = 0; i < dim; i++)
            {
                tableGrad[(tokens[t] * dim) + i] += grad[(t * dim) + i];
            }
        }
    }

    /// <summary><c>a + b</c> element by element.</summary>
    public static float[] Sum(float[] a, float[] b) => [.. a.Zip(b, (x, y) => x + y)];
}
