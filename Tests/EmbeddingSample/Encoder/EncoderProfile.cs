using System.Diagnostics;

namespace EmbeddingSample.Encoder;

/// <summary>Seconds spent in each <see cref="EncoderPhase"/> over the calls since the last <see cref="Reset"/>.</summary>
public sealed class EncoderProfile
{
    private readonly long[] ticks = new long[Enum.GetValues<EncoderPhase>().Length];

    /// <summary>Calls to <see cref="SentenceEncoder{T}.Encode"/> counted.</summary>
    public int Calls { get; internal set; }

    /// <summary>Seconds in <paramref name="phase"/>.</summary>
    /// <param name="phase">The phase.</param>
    /// <returns>Seconds over every counted call.</returns>
    public double Seconds(EncoderPhase phase) => (double)ticks[(int)phase] / Stopwatch.Frequency;

    /// <summary>Clears the times.</summary>
    public void Reset()
    {
        Array.Clear(ticks);
        Calls = 0;
    }

    internal void Add(EncoderPhase phase, long start) => ticks[(int)phase] += Stopwatch.GetTimestamp() - start;
}
