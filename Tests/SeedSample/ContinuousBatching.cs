using System.Diagnostics;
using Attention.Native;
using Attention.Native.Layers;

namespace SeedSample;

/// <summary>
/// Serving several prompts of different lengths with continuous batching: a GQA self-attention layer (E 256, 8 query
/// heads, 2 KV heads) over a paged key/value cache of 16-position pages. Requests arrive at different steps; each
/// step serves every active request in one call: a request that has just arrived prefills its whole prompt, the
/// others decode one token (their own last output as the next input, a toy generation); a request that is done
/// leaves and its pages go back to the pool for the next. Every request's outputs are then checked against one causal
/// forward over its whole sequence. The pool lives on the layer's backend (device memory on CUDA).
/// </summary>
internal static class ContinuousBatching
{
    private const int ModelDim = 256, Heads = 8, KeyValueHeads = 2, PageSize = 16;

    public static bool Run(AttentionBackend backend, Random random)
    {
        var options = new MultiHeadAttentionOptions(ModelDim, Heads) { NumKeyValueHeads = KeyValueHeads };
        using var layer = new MultiHeadAttention<float>(backend, options);
        int packed = (Heads + (2 * KeyValueHeads)) * (ModelDim / Heads);
        float limit = 1f / MathF.Sqrt(ModelDim);
        float[] Weights(int length) => Enumerable.Range(0, length).Select(_ => ((2 * random.NextSingle()) - 1) * limit).ToArray();
        layer.LoadPyTorchWeights(Weights(packed * ModelDim), Weights(packed), Weights(ModelDim * ModelDim), Weights(ModelDim));

        // (arrival step, prompt tokens, tokens to generate)
        (int Arrives, int Prompt, int Generate)[] requests = [(0, 37, 8), (0, 5, 20), (3, 70, 4), (6, 1, 12), (10, 16, 16)];
        var inputs = requests.Select(r => new List<float[]>(Enumerable.Range(0, r.Prompt).Select(_ => Token(random)))).ToArray();
        var outputs = requests.Select(_ => new List<float[]>()).ToArray();
        var ids = new int[requests.Length];
        var active = new List<int>();
        using var cache = layer.CreatePagedCache(PageSize, pageCount: 12);
        int steps = 0, tokens = 0, mostActive = 0;
        var clock = Stopwatch.StartNew();
        for (int step = 0; step == 0 || active.Count > 0 || requests.Any(r => r.Arrives >= step); step++)
        {
            for (int r = 0; r < requests.Length; r++)
            {
                if (requests[r].Arrives == step)
                {
                    ids[r] = cache.AddSequence();
                    active.Add(r);
                }
            }

            if (active.Count == 0)
            {
                continue;
            }

            // A new request's whole prompt, one token for the others: each request's rows one after another.
            var batch = active.ToArray();
            var counts = batch.Select(r => outputs[r].Count == 0 ? requests[r].Prompt : 1).ToArray();
            var rows = batch.SelectMany((r, i) => inputs[r].Skip(outputs[r].Count).Take(counts[i]).SelectMany(t => t)).ToArray();
            using var query = backend.Upload<float>(rows);
            using var output = backend.Allocate<float>(rows.Length);
            layer.ForwardPagedStep(cache, batch.Select(r => ids[r]).ToArray(), counts, query, output);
            var result = output.ToArray();
            int row = 0;
            for (int i = 0; i < batch.Length; i++)
            {
                int r = batch[i];
                for (int t = 0; t < counts[i]; t++, row++)
                {
                    outputs[r].Add(result.AsSpan(row * ModelDim, ModelDim).ToArray());
                }

                int total = requests[r].Prompt + requests[r].Generate;
                if (outputs[r].Count == total)
                {
                    cache.RemoveSequence(ids[r]);
                    active.Remove(r);
                }
                else if (outputs[r].Count >= requests[r].Prompt)
                {
                    inputs[r].Add(outputs[r][^1]);
                }
            }

            steps++;
            tokens += row;
            mostActive = Math.Max(mostActive, batch.Length);
        }

        double ms = clock.Elapsed.TotalMilliseconds;
        double worst = 0;
        for (int r = 0; r < requests.Length; r++)
        {
            var sequence = inputs[r].SelectMany(t => t).ToArray();
            var expected = new float[sequence.Length];
            layer.Forward(1, sequence, sequence, sequence, expected, new LayerMasks { Causal = CausalMask.TopLeft });
            worst = Math.Max(worst, SeedSelfAttention.RelativeError(
                expected.Select(x => (double)x).ToArray(), outputs[r].SelectMany(t => t).ToArray()));
        }

        Console.WriteLine(
            $"Continuous batching: {requests.Length} requests (prompts of {string.Join(", ", requests.Select(r => r.Prompt))} tokens), " +
            $"{tokens} tokens in {steps} steps (prompts prefilled in one step each, up to {mostActive} requests per step) over {PageSize}-position pages in {ms:F1} ms, " +
            $"{cache.FreePageCount} of {cache.PageCount} pages free at the end; worst request vs one causal forward: relative error {worst:E2}");
        return worst <= 1e-4 && cache.FreePageCount == cache.PageCount;
    }

    private static float[] Token(Random random) =>
        Enumerable.Range(0, ModelDim).Select(_ => SeedSelfAttention.Gaussian(random)).ToArray();
}
