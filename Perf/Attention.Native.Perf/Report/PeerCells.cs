using Attention.Native.Perf.Compare;

namespace Attention.Native.Perf.Report;

/// <summary>
/// The peers' summary: one line per case, operand type and thread count where a peer ran, with the CPU backend's rate
/// (GFLOP/s, GB/s for decode) beside each peer's and ours/peer (the peer's median time over ours in the same
/// interleaved runs; above 1: ours is faster). Shared by the console and Markdown reports.
/// </summary>
internal static class PeerCells
{
    public const string Caption =
        "Ours beside the peers: same operands, same thread count, timed runs interleaved; rate = GFLOP/s (GB/s of K and V for decode); " +
        "ours/peer = the peer's median time over ours (above 1: ours is faster).";

    /// <summary>The peers that ran, in row order.</summary>
    public static IReadOnlyList<string> Peers(IReadOnlyList<CompareRow> rows) =>
        [.. rows.Select(r => r.Peer).OfType<string>().Distinct()];

    public static IReadOnlyList<string> Headers(IReadOnlyList<CompareRow> rows) =>
        ["shape", "mask", "dtype", "threads", "rate", "ours", .. Peers(rows).SelectMany(p => new[] { p, $"ours/{p}" })];

    /// <summary>Columns holding numbers, right-aligned.</summary>
    public static bool IsNumeric(int column) => column is 3 or >= 5;

    public static IEnumerable<string[]> Rows(IReadOnlyList<CompareRow> rows)
    {
        var peers = Peers(rows);
        foreach (var group in rows.Where(r => r.Peer is not null).GroupBy(r => (r.Case, r.Dtype, r.Threads)))
        {
            var (perfCase, dtype, threads) = group.Key;
            // The backend row the peers ran beside: the first CPU row of the case at that thread count.
            var ours = rows.First(r => r.Peer is null && r.Backend == AttentionBackendKind.Cpu && r.Case == perfCase && r.Dtype == dtype && r.Threads == threads);
            var cells = new List<string>
            {
                perfCase.Name, perfCase.Mask, dtype.Name(), RowCells.Number(threads, "D"), perfCase.IsDecode ? "GB/s" : "GFLOP/s", Rate(ours),
            };
            foreach (string peer in peers)
            {
                var row = group.FirstOrDefault(r => r.Peer == peer);
                cells.Add(row is null ? "-" : Rate(row));
                cells.Add(row is null ? "-" : RowCells.Ratio(row.OursOverPeer, "F2"));
            }

            yield return [.. cells];
        }
    }

    private static string Rate(CompareRow row) =>
        RowCells.Number(row.Case.IsDecode ? row.Gbps : row.Gflops, "F1") + (row.Passes ? string.Empty : " (FAIL)");
}
