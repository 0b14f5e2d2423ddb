namespace Attention.Native.Validation;

/// <summary>
/// A validated <see cref="PagedKeyValueLayout"/>: the kernels' view of a paged cache, sequence <c>b</c>'s key <c>j</c>
/// being slot <c>j % PageSize</c> of page <see cref="Page"/>. A page's slots are a run of rows one sequence stride
/// apart, so a kernel looks a page up once (<see cref="RunEnd"/>) and walks its rows at that stride.
/// </summary>
internal sealed class KeyValuePaging
{
    public required int PageSize { get; init; }

    public required int PagesPerSequence { get; init; }

    /// <summary>The block table, copied at validation: every entry a sequence reads is a page of the pool.</summary>
    public required int[] BlockTable { get; init; }

    /// <summary>The page holding key <paramref name="key"/> of sequence <paramref name="batch"/>.</summary>
    public int Page(int batch, int key) => BlockTable[((long)batch * PagesPerSequence) + (key / PageSize)];

    /// <summary>One past the last key of the page holding <paramref name="key"/>, or <paramref name="end"/> if sooner.</summary>
    public int RunEnd(int key, int end) => (int)Math.Min(end, ((long)(key / PageSize) + 1) * PageSize);
}
