using System.Diagnostics;
using System.Globalization;
using System.Text;
using Attention.Native.Cpu;

namespace Attention.Native.Perf.Backward;

/// <summary>One measured row: the CPU backend's backward beside libtorch's on the same operands and threads.</summary>
internal sealed record BackwardRow(BackwardCase Case, int Threads, double OursMs, double? TorchMs, double? Difference)
{
    public double OursGflops => Case.Flops / (OursMs * 1e6);

    public double? TorchGflops => TorchMs is double ms ? Case.Flops / (ms * 1e6) : null;

    /// <summary>libtorch's time over ours: above 1, ours is faster.</summary>
    public double? Ratio => TorchMs / OursMs;
}

/// <summary>
/// Times the CPU backward and (optionally) libtorch's in the same process on the same fp32 operands: warm-up, then
/// <c>runs</c> rounds of one timed run each, the first moving along each round, so that the machine's noise falls on
/// both; each side's time is the median of its runs. The two sides' gradients are compared (relative L2 difference of
/// the worst of dQ, dK, dV).
/// </summary>
internal static class BackwardSession
{
    /// <summary>The largest relative difference to libtorch's gradients accepted (both compute in fp32).</summary>
    public const double Tolerance = 1e-4;

    public static BackwardRow Measure(BackwardCase c, int threads, int runs, bool withTorch)
    {
        var shape = c.Shape;
        var random = new Random(15);
        float[] Fill(long n) => [.. Enumerable.Range(0, (int)n).Select(_ => (random.NextSingle() * 2f) - 1f)];
        var q = Fill(shape.QueryElementCount);
        var k = Fill(shape.KeyElementCount);
        var v = Fill(shape.ValueElementCount);
        var dO = Fill(shape.OutputElementCount);
        var o = new float[shape.OutputElementCount];
        var lse = new float[shape.LogSumExpElementCount];
        var dq = new float[q.Length];
        var dk = new float[k.Length];
        var dv = new float[v.Length];
        var options = new AttentionOptions { Causal = c.Causal ? CausalMask.TopLeft : CausalMask.None };
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = threads });
        backend.ScaledDotProductAttention<float>(shape, q, k, v, o, options, lse);
        void Ours() => backend.ScaledDotProductAttentionBackward<float>(shape, q, k, v, o, lse, dO, dq, dk, dv, options);

        using var torch = withTorch ? new TorchBackward(c, q, k, v, dO, threads) : null;
        var ours = new List<double>();
        var theirs = new List<double>();
        Ours();
        if (torch is not null)
        {
            torch.Forward();
            torch.Backward();
        }

        for (int round = 0; round < runs; round++)
        {
            for (int side = 0; side < 2; side++)
            {
                if ((side + round) % 2 == 0)
                {
                    ours.Add(Time(Ours));
                }
                else if (torch is not null)
                {
                    torch.Forward();
                    theirs.Add(Time(torch.Backward));
                }
            }
        }

        double? difference = torch is null ? null
            : new[] { Relative(dq, torch.Gradient(0)), Relative(dk, torch.Gradient(1)), Relative(dv, torch.Gradient(2)) }.Max();
        return new BackwardRow(c, threads, Median(ours), torch is null ? null : Median(theirs), difference);
    }

    /// <summary>The Markdown table of the rows.</summary>
    public static string Markdown(IReadOnlyList<BackwardRow> rows, string header)
    {
        var text = new StringBuilder($"{header}\n\n| shape (B, H, L, D) | threads | ours ms | ours GFLOP/s | torch ms | torch GFLOP/s | ours/torch | difference |\n|---|---|---|---|---|---|---|---|\n");
        foreach (var r in rows)
        {
            text.Append(CultureInfo.InvariantCulture, $"| {r.Case} | {r.Threads} | {r.OursMs:F1} | {r.OursGflops:F1} | {Format(r.TorchMs, "F1")} | {Format(r.TorchGflops, "F1")} | {Format(r.Ratio, "F2")} | {Format(r.Difference, "E1")} |\n");
        }

        return text.ToString();
    }

    /// <summary>The rows as CSV, full precision.</summary>
    public static string Csv(IReadOnlyList<BackwardRow> rows)
    {
        var text = new StringBuilder("batch,heads,length,head_dim,causal,threads,ours_ms,ours_gflops,torch_ms,torch_gflops,ours_over_torch,difference\n");
        foreach (var r in rows)
        {
            var c = r.Case;
            text.Append(CultureInfo.InvariantCulture,
                $"{c.Batch},{c.Heads},{c.Length},{c.HeadDim},{c.Causal},{r.Threads},{r.OursMs:R},{r.OursGflops:R},{r.TorchMs:R},{r.TorchGflops:R},{r.Ratio:R},{r.Difference:R}\n");
        }

        return text.ToString();
    }

    private static string Format(double? value, string format) =>
        value is double v ? v.ToString(format, CultureInfo.InvariantCulture) : "–";

    private static double Time(Action run)
    {
        long start = Stopwatch.GetTimestamp();
        run();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        int n = values.Count;
        return n % 2 == 1 ? values[n / 2] : (values[(n / 2) - 1] + values[n / 2]) / 2;
    }

    private static double Relative(float[] ours, float[] theirs)
    {
        double difference = 0;
        double norm = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            double d = ours[i] - (double)theirs[i];
            difference += d * d;
            norm += (double)theirs[i] * theirs[i];
        }

        return Math.Sqrt(difference / Math.Max(norm, double.Epsilon));
    }
}
