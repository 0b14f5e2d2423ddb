using EmbeddingSample.Model;
using EmbeddingSample.Ort;
using EmbeddingSample.Tokens;

namespace EmbeddingSample.Tests;

/// <summary>The package's model, read once for every test: its weights, its tokenizer and ONNX Runtime on it.</summary>
internal static class MiniLm
{
    private static readonly Lazy<byte[]> ModelBytes = new(OrtSentenceEncoder.PackageModel);
    private static readonly Lazy<BertWeights> LazyWeights = new(() => OnnxBertReader.Read(Onnx.ModelProto.Parser.ParseFrom(ModelBytes.Value)));
    private static readonly Lazy<SentenceTokenizer> LazyTokenizer = new(() => new SentenceTokenizer());
    private static readonly Lazy<OrtSentenceEncoder> LazyOrt = new(() => new OrtSentenceEncoder(ModelBytes.Value, Weights.Config.Hidden, threads: 2));
    private static readonly Lock OrtGate = new();

    public static byte[] Model => ModelBytes.Value;

    public static BertWeights Weights => LazyWeights.Value;

    public static SentenceTokenizer Tokenizer => LazyTokenizer.Value;

    /// <summary>ONNX Runtime's embeddings of <paramref name="batch"/> (one run at a time: the session is shared).</summary>
    public static float[] Reference(TokenBatch batch)
    {
        lock (OrtGate)
        {
            return LazyOrt.Value.Encode(batch);
        }
    }
}
