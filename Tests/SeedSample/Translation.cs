using Attention.Native;
using Attention.Native.Layers;

namespace SeedSample;

/// <summary>
/// The seed's case study as cross-attention: the decoder's queries <c>我 是 一只 狗</c> attend to the encoder's keys
/// <c>I am a dog</c>. The embeddings are made up: each token is a random vector of its meaning (shared by 我 and I)
/// plus a little noise of its own, so the weights show the alignment a trained model would learn.
/// </summary>
internal static class Translation
{
    private const int ModelDim = 64;

    public static bool Run(AttentionBackend backend, Random random)
    {
        string[] english = ["I", "am", "a", "dog"];
        string[] chinese = ["我", "是", "一只", "狗"];
        var meanings = english.Select(_ => Vector(random, 1f)).ToArray();
        float[] Embed(int meaning) => meanings[meaning].Zip(Vector(random, 0.3f), (m, n) => m + n).ToArray();
        var keys = Enumerable.Range(0, 4).SelectMany(Embed).ToArray();
        var queries = Enumerable.Range(0, 4).SelectMany(Embed).ToArray();

        // One head with identity projections: the weights are softmax(q·kᵀ/√64) of the embeddings themselves.
        using var layer = new MultiHeadAttention<float>(backend, new MultiHeadAttentionOptions(ModelDim, NumHeads: 1) { UseBias = false });
        var identity = new float[ModelDim * ModelDim];
        for (int i = 0; i < ModelDim; i++)
        {
            identity[(i * ModelDim) + i] = 1;
        }

        layer.LoadPyTorchWeights([.. identity, .. identity, .. identity], [], identity, []);
        var output = new float[queries.Length];
        var weights = new float[4 * 4];
        layer.Forward(1, queries, keys, keys, output, weights: weights);

        Console.WriteLine();
        Console.WriteLine("Cross-attention weights, 我 是 一只 狗 (queries) over I am a dog (keys):");
        Console.WriteLine("        " + string.Concat(english.Select(e => $"{e,7}")));
        bool aligned = true;
        for (int i = 0; i < 4; i++)
        {
            var row = weights.AsSpan(i * 4, 4).ToArray();
            Console.WriteLine($"{chinese[i],-4}\t" + string.Concat(row.Select(w => $"{w,7:F3}")));
            aligned &= Array.IndexOf(row, row.Max()) == i && Math.Abs(row.Sum() - 1) < 1e-5;
        }

        Console.WriteLine(aligned ? "Each Chinese word attends most to its English counterpart." : "UNEXPECTED: the alignment is not diagonal.");
        return aligned;
    }

    private static float[] Vector(Random random, float amplitude) =>
        Enumerable.Range(0, ModelDim).Select(_ => amplitude * SeedSelfAttention.Gaussian(random)).ToArray();
}
