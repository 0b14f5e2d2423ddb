using Attention.Native.Perf.Limits;
using Attention.Native.Perf.Workloads;

namespace Attention.Native.Perf.Compare;

/// <summary>One measured (case, backend) pair with its derived rates and its error against the reference. A peer's row
/// (<see cref="Peer"/>) has <see cref="Backend"/> <see cref="AttentionBackendKind.Cpu"/>: it runs on the same cores,
/// held to the same limits.</summary>
internal sealed record CompareRow(
    PerfCase Case,
    AttentionBackendKind Backend,
    string Variant,
    int Threads,
    TimeSpan Median,
    double RelativeError,
    string ErrorScope)
{
    /// <summary>The operand element type.</summary>
    public OperandType Dtype { get; init; } = OperandType.Float;

    /// <summary>Positions per page of a row whose K and V were paged (<c>--paged</c>); 0 for contiguous K and V.</summary>
    public int PageSize { get; init; }

    /// <summary>For a paged row, the contiguous twin's time over this row's, in the same interleaved runs: the paged
    /// rate as a fraction of the contiguous one; NaN for every other row.</summary>
    public double PagedOverContiguous { get; init; } = double.NaN;

    /// <summary>The kernel that ran: <c>tiled</c> or <c>decode</c> on the CPU, <c>simt</c> on CUDA.</summary>
    public string Kernel { get; init; } = string.Empty;

    /// <summary>The peer library that ran (<c>torch</c>, <c>ort</c>; <see cref="Peers.IAttentionPeer.Name"/>); null for
    /// the library's own backends.</summary>
    public string? Peer { get; init; }

    /// <summary>The backend column: the peer's name, else the backend kind.</summary>
    public string BackendName => Peer ?? Backend.ToString();

    /// <summary>For a peer's row, the peer's time over the CPU backend's in the same interleaved runs: how many times
    /// faster ours ran (above 1: ours is faster); NaN for the library's own rows.</summary>
    public double OursOverPeer { get; init; } = double.NaN;

    /// <summary>For the library's row of a BSHD case, its BHSD twin's time over this row's (<see cref="LayoutRatios"/>):
    /// the BSHD rate as a fraction of the BHSD rate; NaN for every other row.</summary>
    public double BshdOverBhsd { get; init; } = double.NaN;

    /// <summary>The accuracy bound of <see cref="Dtype"/> (<see cref="OperandTypes.Tolerance"/>): 1e-5 for float.</summary>
    public double ErrorTolerance => Dtype.Tolerance();

    /// <summary>For a non-CPU row, the best CPU time of the same case and operand type over this row's time (the GPU/CPU speed-up);
    /// NaN for CPU rows.</summary>
    public double SpeedupOverCpu { get; init; } = double.NaN;

    public double Milliseconds => Median.TotalMilliseconds;

    public double Gflops => Case.Flops / Median.TotalSeconds / 1e9;

    /// <summary>K and V bytes read per second (<see cref="OperandTypes.KeyValueBytes"/>), for decode cases; NaN otherwise.</summary>
    public double Gbps => Case.IsDecode ? Dtype.KeyValueBytes(Case) / Median.TotalSeconds / 1e9 : double.NaN;

    /// <summary>For a CPU decode row, its rate over the streaming read timed beside each run (<see cref="PairedRead"/>);
    /// NaN otherwise.</summary>
    public double PairedReadFraction { get; init; } = double.NaN;

    /// <summary>The limit that binds this case: read bandwidth for decode (paired with the runs where measured), the
    /// FMA peak otherwise.</summary>
    public string LimitKind => !Case.IsDecode ? "FMA peak" : double.IsNaN(PairedReadFraction) ? "read BW" : "paired read";

    /// <summary>Rate over the binding limit of this thread count; NaN off the CPU, whose limits were not measured.</summary>
    public double LimitFraction(MachineLimits limits) =>
        Backend != AttentionBackendKind.Cpu ? double.NaN
        : Case.IsDecode ? (double.IsNaN(PairedReadFraction) ? Gbps / limits.Bandwidth(Threads) : PairedReadFraction)
        : Gflops / limits.FmaPeak(Threads);

    /// <summary>Within tolerance (NaN fails).</summary>
    public bool Passes => RelativeError <= ErrorTolerance;
}
