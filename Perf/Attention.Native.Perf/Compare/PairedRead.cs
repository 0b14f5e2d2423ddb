using System.Diagnostics;
using Attention.Native.Perf.Limits;

namespace Attention.Native.Perf.Compare;

/// <summary>
/// A decode case's rate against the streaming read measured right beside it: each timed run is preceded by a read of a
/// buffer at least as large (same threads), and the fraction is the median over runs of (bytes the kernel read per
/// second ÷ bytes the read read per second). On a shared machine other processes come and go within seconds; the
/// limits table keeps the best read of several tries before and after all cases, which a kernel timed by its median in
/// between cannot be fairly held to, while each pair here sees the same moment.
/// </summary>
internal static class PairedRead
{
    /// <summary>Smallest read buffer: twice this machine's (and most servers') last-level cache share, so neither the
    /// read nor the kernel finds the other's bytes cached.</summary>
    public const long MinBytes = 64L << 20;

    /// <summary>Median over the plan's timed runs of the kernel's GB/s over the paired read's.</summary>
    /// <param name="forward">One kernel run.</param>
    /// <param name="kernelBytes">Bytes the kernel reads per run (K and V).</param>
    /// <param name="threads">Threads of both.</param>
    /// <param name="plan">How many runs.</param>
    public static double Fraction(Action forward, double kernelBytes, int threads, RepetitionPlan plan)
    {
        using var read = new ReadBandwidth(Math.Max((long)kernelBytes, MinBytes));
        int runs = Math.Clamp(plan.MinRuns, 5, 25);
        var fractions = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            double readGbps = read.Measure(Math.Max(threads, 1));
            long start = Stopwatch.GetTimestamp();
            forward();
            double kernelGbps = kernelBytes / Stopwatch.GetElapsedTime(start).TotalSeconds / 1e9;
            fractions[i] = kernelGbps / readGbps;
        }

        Array.Sort(fractions);
        return runs % 2 == 1 ? fractions[runs / 2] : (fractions[(runs / 2) - 1] + fractions[runs / 2]) / 2;
    }
}
