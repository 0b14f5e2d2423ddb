using Attention.Native.Perf.Workloads;

namespace Attention.Native.Perf.Peers;

/// <summary>Both peers' causal flag (<c>is_causal</c>) aligns the mask top-left, as <see cref="CausalMask.TopLeft"/>
/// does.</summary>
internal static class TopLeftCausal
{
    /// <summary>Why a peer cannot run the case's mask; null when it can (no mask, top-left, or a bottom-right mask on a
    /// square problem, where the two are the same).</summary>
    public static string? Unsupported(PerfCase perfCase) =>
        perfCase.Causal == CausalMask.BottomRight && perfCase.Shape.QueryLength != perfCase.Shape.KeyLength
            ? "its is_causal aligns the mask top-left; a bottom-right mask with Lq ≠ Lk has no equivalent"
            : null;
}
