namespace Attention.Native;

/// <summary>
/// How a paged key/value cache is addressed (vLLM's and FlashAttention's <c>block_table</c> layout): K and V live in
/// fixed-size pages, <c>keyPages [numPages, PageSize, Hkv, D]</c> and <c>valuePages [numPages, PageSize, Hkv, Dv]</c>
/// (each page <c>PageSize</c> consecutive positions, a position's heads side by side; with <see cref="HeadMajor"/>,
/// <c>[numPages, Hkv, PageSize, D]</c>), and sequence <c>b</c>'s key <c>j</c> is slot <c>j % PageSize</c> of page
/// <c>BlockTable[b·PagesPerSequence + j / PageSize]</c>.
/// </summary>
/// <remarks>
/// Pages may appear in any order, and several sequences may name the same page (a shared prompt prefix). Only the
/// entries of a sequence's first <c>⌈SequenceLengths[b] / PageSize⌉</c> pages are read; the rest of its row of the
/// table may hold anything (−1, say). The call copies the table and the lengths when it validates them.
/// </remarks>
/// <param name="PageSize">Positions per page, at least 1 (16 to 256 are usual).</param>
/// <param name="PagesPerSequence">Columns of the block table: the most pages one sequence may hold.</param>
/// <param name="BlockTable">Page ids, <c>[B, PagesPerSequence]</c> row-major.</param>
/// <param name="SequenceLengths">Cached positions of each sequence, <c>[B]</c>: each in
/// <c>[0, min(shape.KeyLength, PagesPerSequence·PageSize)]</c>. Causal masks align each sequence's queries with its own
/// last positions (<see cref="CausalMask.BottomRight"/>), as <see cref="AttentionOptions.KeyLengths"/> do.</param>
public sealed record PagedKeyValueLayout(
    int PageSize, int PagesPerSequence, ReadOnlyMemory<int> BlockTable, ReadOnlyMemory<int> SequenceLengths)
{
    /// <summary>
    /// Whether each page holds its heads one after another, <c>[numPages, Hkv, PageSize, D]</c> (FlashInfer's
    /// <c>HND</c>), rather than a position's heads side by side, <c>[numPages, PageSize, Hkv, D]</c> (<c>NHD</c>, vLLM's
    /// and FlashAttention's; the default). A head's keys of a page are then one contiguous run, which the CPU decode
    /// kernel streams per head as it does a BHSD cache.
    /// </summary>
    public bool HeadMajor { get; init; }
}
