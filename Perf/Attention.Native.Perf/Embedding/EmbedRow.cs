using EmbeddingSample;

namespace Attention.Native.Perf.Embedding;

/// <summary>One measured row: both engines on the same batch at the same thread count, and where our time went.</summary>
/// <param name="Case">The batch.</param>
/// <param name="Threads">CPU threads of both.</param>
/// <param name="RealTokens">Real tokens in the batch (the rest of its rows pad).</param>
/// <param name="PaddedLength">Tokens per padded row L.</param>
/// <param name="Ours">Median time of one call of ours.</param>
/// <param name="Ort">Median time of one call of ONNX Runtime's.</param>
/// <param name="Match">Ours against ORT's embeddings of the batch.</param>
/// <param name="Profile">Our phases' shares of a call.</param>
/// <param name="TokenizeSeconds">FastBertTokenizer's time for the batch's texts.</param>
internal sealed record EmbedRow(
    EmbedCase Case, int Threads, int RealTokens, int PaddedLength, TimeSpan Ours, TimeSpan Ort, EmbeddingComparison Match,
    EmbedProfile Profile, double TokenizeSeconds)
{
    public double OursSentencesPerSecond => Case.Batch / Ours.TotalSeconds;

    public double OrtSentencesPerSecond => Case.Batch / Ort.TotalSeconds;

    /// <summary>Our throughput over ORT's (ORT's time over ours).</summary>
    public double Ratio => Ort / Ours;

    public bool Passes => Match.IsWithin(EmbeddingComparison.FloatTolerance);
}
