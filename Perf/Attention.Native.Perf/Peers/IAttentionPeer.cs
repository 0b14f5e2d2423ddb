using Attention.Native.Perf.Workloads;

namespace Attention.Native.Perf.Peers;

/// <summary>
/// Another library's CPU attention, measured by <c>compare</c> beside the CPU backend on the same fp32 operands, at the
/// same thread count, its timed runs interleaved with the backend's (<c>--peers</c>).
/// </summary>
internal interface IAttentionPeer
{
    /// <summary>The <c>--peers</c> name, shown in the backend column: <c>torch</c> or <c>ort</c>.</summary>
    string Name { get; }

    /// <summary>The library and its version, shown in the variant column.</summary>
    string Version { get; }

    /// <summary>How it is set up for the runs (threads, waiting), for the report's notes.</summary>
    string Settings { get; }

    /// <summary>Why the peer cannot compute <paramref name="perfCase"/> as the backend does; null when it can.</summary>
    string? Unsupported(PerfCase perfCase);

    /// <summary>Sets up the peer's forward on <paramref name="operands"/> (BHSD) with <paramref name="threads"/>
    /// threads and runs it once.</summary>
    /// <exception cref="NotSupportedException">The peer's library rejected the case; the message says why.</exception>
    IPeerForward Prepare(PerfCase perfCase, RandomOperands operands, int threads);
}
