namespace Attention.Native.Perf.Gemm;

/// <summary>One timed shape: the best of its runs, the FMA peak of the same thread count, the error.</summary>
internal sealed record GemmRow(GemmShape Shape, string Variant, int Threads, double Milliseconds, double PeakGflops, double RelativeError)
{
    /// <summary>fp32 accumulation over k ≤ 2048 of values of one sign-random magnitude stays far below this.</summary>
    public const double Tolerance = 1e-5;

    public double Gflops => Shape.Flops / (Milliseconds * 1e6);

    public double OfPeak => Gflops / PeakGflops;

    public bool Passes => RelativeError <= Tolerance;
}
