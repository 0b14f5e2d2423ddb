using System.Diagnostics;
using Attention.Native.Cpu;
using EmbeddingSample.Encoder;
using EmbeddingSample.Tokens;

namespace Attention.Native.Perf.Embedding;

/// <summary>
/// Where one call of our encoder spends its time, in seconds per call: its own phases (<see cref="EncoderProfile"/>),
/// with the self-attention phase split into the fused attention (timed alone on the same shape, views and key lengths,
/// times the layers) and the rest of the layer (its Q/K/V and output projections).
/// </summary>
internal sealed record EmbedProfile(
    double Total, double Embeddings, double Scatter, double Projections, double Attention, double FeedForward, double Gelu,
    double LayerNorm, double Pooling)
{
    /// <summary>The column names, in the order of <see cref="Shares"/>.</summary>
    public static readonly string[] Names = ["QKV+out proj", "attention", "FFN GEMMs", "GELU", "layer norms", "embeddings", "other"];

    /// <summary>Each part's share of <see cref="Total"/>, in <see cref="Names"/>' order.</summary>
    public double[] Shares => [.. new[] { Projections, Attention, FeedForward, Gelu, LayerNorm, Embeddings, Scatter + Pooling }.Select(s => s / Total)];

    /// <summary>Profiles <paramref name="encoder"/> on <paramref name="batch"/> (already warm) for at least a few calls.</summary>
    public static EmbedProfile Measure(CpuBackend backend, SentenceEncoder<float> encoder, TokenBatch batch, bool quick)
    {
        var profile = new EncoderProfile();
        encoder.Profile = profile;
        long start = Stopwatch.GetTimestamp();
        try
        {
            do
            {
                encoder.Encode(batch);
            }
            while (profile.Calls < (quick ? 1 : 3) || Stopwatch.GetElapsedTime(start).TotalSeconds < (quick ? 0.1 : 1));
        }
        finally
        {
            encoder.Profile = null;
        }

        double PerCall(EncoderPhase phase) => profile.Seconds(phase) / profile.Calls;
        double selfAttention = PerCall(EncoderPhase.SelfAttention);
        double attention = Math.Min(selfAttention, encoder.Config.Layers * AttentionAlone(backend, encoder, batch, quick));
        var phases = Enum.GetValues<EncoderPhase>();
        return new EmbedProfile(
            phases.Sum(PerCall), PerCall(EncoderPhase.Embeddings), PerCall(EncoderPhase.Scatter), selfAttention - attention, attention,
            PerCall(EncoderPhase.FeedForward), PerCall(EncoderPhase.Gelu), PerCall(EncoderPhase.LayerNorm), PerCall(EncoderPhase.Pooling));
    }

    /// <summary>
    /// The median time of the fused attention one layer runs: MultiHeadAttention's call, on <c>[B, L, H, D]</c> views of
    /// the packed <c>[B·L, Q|K|V]</c> projection rows, with the batch's key lengths when it pads.
    /// </summary>
    private static double AttentionAlone(CpuBackend backend, SentenceEncoder<float> encoder, TokenBatch batch, bool quick)
    {
        var c = encoder.Config;
        int b = batch.Count, l = batch.Length, packed = 3 * c.Hidden;
        var shape = new AttentionShape(b, c.Heads, l, l, c.HeadDim);
        var random = new Random(1);
        float[] projections = [.. Enumerable.Range(0, b * l * packed).Select(_ => (float)random.NextDouble() - 0.5f)];
        var output = new float[b * l * c.Hidden];
        var rows = new TensorStrides((long)l * packed, c.HeadDim, packed);
        var options = new AttentionOptions
        {
            QueryStrides = rows,
            KeyStrides = rows,
            ValueStrides = rows,
            OutputStrides = new TensorStrides((long)l * c.Hidden, c.HeadDim, c.Hidden),
            KeyLengths = batch.TokenCount == b * l ? ReadOnlyMemory<int>.Empty : batch.Lengths,
        };
        void Run() => backend.ScaledDotProductAttention<float>(
            shape, projections, projections.AsSpan(c.Hidden), projections.AsSpan(2 * c.Hidden), output, options);
        Run();
        var times = new double[quick ? 3 : 7];
        for (int i = 0; i < times.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            Run();
            times[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }

        Array.Sort(times);
        return times[times.Length / 2];
    }
}
