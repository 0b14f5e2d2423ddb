using Attention.Native.Perf.Peers.Ort;
using Attention.Native.Perf.Peers.Torch;

namespace Attention.Native.Perf.Peers;

/// <summary>The peers <c>compare --peers</c> knows, each loaded at most once per process.</summary>
internal static class PeerCatalog
{
    /// <summary>The <c>--peers</c> names, in the order the rows show them.</summary>
    public static IReadOnlyList<string> Names { get; } = ["torch", "ort"];

    private static readonly Dictionary<string, Lazy<(IAttentionPeer? Peer, string Reason)>> Loaded = new(StringComparer.Ordinal)
    {
        ["torch"] = new(() => (TorchPeer.TryLoad(out string reason), reason)),
        ["ort"] = new(() => (OrtPeer.TryLoad(out string reason), reason)),
    };

    /// <summary>The peer named <paramref name="name"/> (one of <see cref="Names"/>), or null with why it cannot
    /// load.</summary>
    public static IAttentionPeer? Load(string name, out string reason)
    {
        var (peer, why) = Loaded[name].Value;
        reason = why;
        return peer;
    }
}
