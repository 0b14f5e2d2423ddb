namespace Attention.Native.Perf.Peers;

/// <summary>One peer's forward of one case, its operands already in the peer's memory and layout.</summary>
internal interface IPeerForward : IDisposable
{
    /// <summary>What ran, for the kernel column: the operator and how the case was put to it.</summary>
    string Kernel { get; }

    /// <summary>One forward: what the timed runs time.</summary>
    void Run();

    /// <summary>The last run's output as <c>[B, Hq, Lq, Dv]</c>, contiguous, for the float64 check.</summary>
    float[] Output();
}
