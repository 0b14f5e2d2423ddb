using System.Diagnostics;
using Attention.Native;
using Attention.Native.Layers;

namespace SeedSample;

/// <summary>
/// The seed's Keras <c>SelfAttention(d_model=512)</c> on <c>[32, 64, 512]</c>: one head, <c>Wq, Wk, Wv, Wo</c> of
/// <c>[512, 512]</c> (glorot_uniform, no biases), <c>softmax(q·kᵀ)·v·Wo</c>. The seed's code applies no <c>1/√d</c>
/// scale (<c>Scale = 1</c>); the standard layer does. Checked against float64 on the first sequence.
/// </summary>
internal static class SeedSelfAttention
{
    public const int Batch = 32, Length = 64, ModelDim = 512;

    public static bool Run(AttentionBackend backend, Random random)
    {
        // Keras kernels are [in, out] (x·W): exactly the Keras MultiHeadAttention layout with one head.
        float limit = MathF.Sqrt(6f / (ModelDim + ModelDim));
        float[] Glorot() => Enumerable.Range(0, ModelDim * ModelDim).Select(_ => ((2 * random.NextSingle()) - 1) * limit).ToArray();
        float[] wq = Glorot(), wk = Glorot(), wv = Glorot(), wo = Glorot();
        var inputs = Enumerable.Range(0, Batch * Length * ModelDim).Select(_ => Gaussian(random)).ToArray();

        bool ok = true;
        foreach (float? scale in new float?[] { 1f, null })
        {
            var options = new MultiHeadAttentionOptions(ModelDim, NumHeads: 1) { UseBias = false, Scale = scale };
            using var layer = new MultiHeadAttention<float>(backend, options);
            layer.LoadKerasWeights(wq, [], wk, [], wv, [], wo, []);
            var output = new float[inputs.Length];
            layer.Forward(Batch, inputs, output); // warm-up
            var clock = Stopwatch.StartNew();
            layer.Forward(Batch, inputs, output);
            double ms = clock.Elapsed.TotalMilliseconds;

            var expected = Reference(inputs.AsSpan(0, Length * ModelDim), wq, wk, wv, wo, layer.Scale);
            double error = RelativeError(expected, output.AsSpan(0, Length * ModelDim));
            string label = scale is null ? $"scale 1/√512 = {layer.Scale:F4}" : "scale 1 (the seed's code)";
            Console.WriteLine($"SelfAttention [32, 64, 512], {label}: output [32, 64, 512] in {ms:F1} ms; first sequence vs float64: relative error {error:E2}");
            ok &= error <= 1e-4;
        }

        return ok;
    }

    /// <summary>The seed's layer in float64 for one sequence.</summary>
    private static double[] Reference(ReadOnlySpan<float> x, float[] wq, float[] wk, float[] wv, float[] wo, double scale)
    {
        double[] Project(ReadOnlySpan<float> input, float[] w) => Dense(input.ToArray().Select(v => (double)v).ToArray(), w);
        double[] q = Project(x, wq), k = Project(x, wk), v = Project(x, wv);
        var context = new double[Length * ModelDim];
        var scores = new double[Length];
        for (int i = 0; i < Length; i++)
        {
            for (int j = 0; j < Length; j++)
            {
                double s = 0;
                for (int d = 0; d < ModelDim; d++)
                {
                    s += q[(i * ModelDim) + d] * k[(j * ModelDim) + d];
                }

                scores[j] = s * scale;
            }

            double max = scores.Max(), sum = scores.Sum(s => Math.Exp(s - max));
            for (int j = 0; j < Length; j++)
            {
                double p = Math.Exp(scores[j] - max) / sum;
                for (int d = 0; d < ModelDim; d++)
                {
                    context[(i * ModelDim) + d] += p * v[(j * ModelDim) + d];
                }
            }
        }

        return Dense(context, wo);
    }

    /// <summary><c>x·W</c> for <c>[Length, 512]·[512, 512]</c> (Keras' <c>tf.matmul(inputs, W)</c>).</summary>
    private static double[] Dense(double[] x, float[] w)
    {
        var y = new double[Length * ModelDim];
        for (int r = 0; r < Length; r++)
        {
            for (int c = 0; c < ModelDim; c++)
            {
                double xc = x[(r * ModelDim) + c];
                for (int o = 0; o < ModelDim; o++)
                {
                    y[(r * ModelDim) + o] += xc * w[(c * ModelDim) + o];
                }
            }
        }

        return y;
    }

    internal static double RelativeError(double[] expected, ReadOnlySpan<float> actual)
    {
        double error = 0, norm = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            error += (actual[i] - expected[i]) * (actual[i] - expected[i]);
            norm += expected[i] * expected[i];
        }

        return Math.Sqrt(error / norm);
    }

    internal static float Gaussian(Random random) =>
        (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
}
