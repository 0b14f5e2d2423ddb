using System.Diagnostics;
using Attention.Native.Cpu;
using Attention.Native.Perf.Compare;
using EmbeddingSample;
using EmbeddingSample.Encoder;
using EmbeddingSample.Model;
using EmbeddingSample.Ort;

namespace Attention.Native.Perf.Embedding;

/// <summary>
/// Times our encoder (CPU backend, float) and ONNX Runtime's on the same batches at one thread count, in one process:
/// each case's runs interleaved round by round (<see cref="RepetitionPlan.Medians"/>), then ours checked against ORT's
/// embeddings and profiled.
/// </summary>
internal static class EmbedRunner
{
    /// <summary>Warm-ups and timed rounds for whole-model calls, which take milliseconds to seconds.</summary>
    public static RepetitionPlan Plan(bool quick) => quick
        ? new RepetitionPlan(WarmupRuns: 1, WarmupSeconds: 0.2, TargetSeconds: 0.5, MinRuns: 2, MaxRuns: 7)
        : new RepetitionPlan(WarmupRuns: 2, WarmupSeconds: 1.0, TargetSeconds: 5.0, MinRuns: 5, MaxRuns: 201);

    public static List<EmbedRow> Run(
        BertWeights weights, byte[] model, SyntheticSentences sentences, IReadOnlyList<EmbedCase> cases, int threads, bool quick, int seed,
        Action<string> step)
    {
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = threads });
        using var ours = new SentenceEncoder<float>(backend, weights);
        using var ort = new OrtSentenceEncoder(model, weights.Config.Hidden, threads);
        var plan = Plan(quick);
        var rows = new List<EmbedRow>();
        foreach (var embedCase in cases)
        {
            step($"{embedCase.Label}, {threads} thread{(threads == 1 ? string.Empty : "s")}");

            // The same sentences at every thread count and in every run: the seed and the case alone choose them
            // (not HashCode.Combine, which is seeded per process).
            var random = new Random((int)(((seed * 1_000_003L) + (embedCase.Batch * 1_009L) + (embedCase.Tokens ?? 0)) % int.MaxValue));
            int[] lengths = embedCase.Lengths(random);
            string[] texts = sentences.Texts(lengths, random);
            var batch = sentences.Batch(texts, lengths);
            var times = plan.Medians([() => ours.Encode(batch), () => ort.Encode(batch)]);
            var match = EmbeddingComparison.Of(ours.Encode(batch), ort.Encode(batch), weights.Config.Hidden);
            var profile = EmbedProfile.Measure(backend, ours, batch, quick);
            rows.Add(new EmbedRow(embedCase, threads, batch.TokenCount, batch.Length, times[0], times[1], match, profile, TokenizeSeconds(sentences, texts)));
        }

        return rows;
    }

    /// <summary>The median time FastBertTokenizer takes for the texts (one thread, as it runs).</summary>
    private static double TokenizeSeconds(SyntheticSentences sentences, string[] texts)
    {
        var times = new double[5];
        for (int i = 0; i < times.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            sentences.Tokenizer.Encode(texts, EmbedCase.MixedMax);
            times[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }

        Array.Sort(times);
        return times[times.Length / 2];
    }
}
