using System.Globalization;
using Attention.Native;
using Attention.Native.Cpu;
using EmbeddingSample;
using EmbeddingSample.Encoder;
using EmbeddingSample.Model;
using EmbeddingSample.Ort;
using EmbeddingSample.Tokens;

// all-MiniLM-L6-v2 sentence embeddings on Attention.Native's layers, beside ONNX Runtime's on the same model.onnx
// (docs/embedding-sample.md). Exit 1 when an embedding differs from ORT's beyond the tolerance, 2 on bad arguments.
Console.OutputEncoding = System.Text.Encoding.UTF8;
if (EmbedArguments.Parse(args) is not { } options)
{
    Console.Error.WriteLine(EmbedArguments.Usage);
    return 2;
}

using var backend = options.Backend == AttentionBackendKind.Cpu
    ? new CpuBackend(new CpuBackendOptions { ThreadCount = options.Threads })
    : AttentionBackend.Create(options.Backend);
var weights = OnnxBertReader.ReadPackage();
var tokenizer = new SentenceTokenizer();
var batch = tokenizer.Encode(options.Sentences);
float[] ours = options.Half ? Encode<Half>(backend, weights, batch) : Encode<float>(backend, weights, batch);
using var ort = new OrtSentenceEncoder(OrtSentenceEncoder.PackageModel(), weights.Config.Hidden, options.Threads);
float[] reference = ort.Encode(batch);

int width = weights.Config.Hidden;
Console.WriteLine($"Backend: {backend.Description}{(options.Half ? ", Half" : ", float")}");
Console.WriteLine($"Model: all-MiniLM-L6-v2 ({weights.Config}) from {MiniLmPackage.Name}'s model.onnx; reference: ONNX Runtime {ort.Version} (CPU) on the same file");
Console.WriteLine();
for (int b = 0; b < batch.Count; b++)
{
    var a = ours.AsSpan(b * width, width);
    var r = reference.AsSpan(b * width, width);
    var one = EmbeddingComparison.Of(a, r, width);
    Console.WriteLine($"[{b}] {Quote(options.Sentences[b])} ({batch.Lengths[b]} tokens)");
    Console.WriteLine($"    ours {Values(a)} …");
    Console.WriteLine($"    ORT  {Values(r)} …  {one}");
}

Console.WriteLine();
Console.WriteLine("Cosine similarities, ours (ORT's):");
Console.WriteLine("      " + string.Concat(Enumerable.Range(0, batch.Count).Select(j => $"{$"[{j}]",-20}")));
for (int i = 0; i < batch.Count; i++)
{
    var cells = Enumerable.Range(0, batch.Count).Select(j =>
        $"{Similarity(ours, i, j)} ({Similarity(reference, i, j)})".PadRight(20));
    Console.WriteLine($"{$"[{i}]",-6}{string.Concat(cells)}");
}

var tolerance = options.Half ? EmbeddingComparison.HalfTolerance : EmbeddingComparison.FloatTolerance;
var all = EmbeddingComparison.Of(ours, reference, width);
Console.WriteLine();
Console.WriteLine(all.IsWithin(tolerance)
    ? $"Every embedding equals ORT's within {tolerance.AsTolerance()}: {all}."
    : $"FAIL: the embeddings differ from ORT's beyond {tolerance.AsTolerance()}: {all}.");
return all.IsWithin(tolerance) ? 0 : 1;

static float[] Encode<T>(AttentionBackend backend, BertWeights weights, TokenBatch batch)
    where T : unmanaged
{
    using var encoder = new SentenceEncoder<T>(backend, weights);
    return encoder.Encode(batch);
}

static string Values(ReadOnlySpan<float> v) =>
    string.Join(' ', v[..6].ToArray().Select(x => x.ToString("+0.000000;-0.000000", CultureInfo.InvariantCulture)));

string Similarity(float[] embeddings, int i, int j) =>
    EmbeddingComparison.Cosine(embeddings.AsSpan(i * width, width), embeddings.AsSpan(j * width, width)).ToString("0.0000", CultureInfo.InvariantCulture);

static string Quote(string text) => text.Length <= 70 ? $"\"{text}\"" : $"\"{text[..67]}…\"";
