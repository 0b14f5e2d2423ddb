namespace Attention.Native.Perf.Compare;

/// <summary>
/// A decode case's K and V in a paged cache (<see cref="PagedKeyValueLayout"/>): <c>[numPages, PageSize, Hkv, D]</c>
/// pages (or head-major, <c>[numPages, Hkv, PageSize, D]</c>) in a shuffled order, so that no sequence's pages follow
/// one another in memory, as in a serving engine's pool after sequences have come and gone. Every sequence holds all
/// Lk keys.
/// </summary>
internal sealed class PagedOperands<T>
    where T : unmanaged
{
    private PagedOperands(T[] keyPages, T[] valuePages, PagedKeyValueLayout layout)
    {
        KeyPages = keyPages;
        ValuePages = valuePages;
        Layout = layout;
    }

    public T[] KeyPages { get; }

    public T[] ValuePages { get; }

    public PagedKeyValueLayout Layout { get; }

    public int PageSize => Layout.PageSize;

    /// <summary>The row's kernel suffix: the page size and layout, FlashInfer's names (<c>nhd</c>: a position's heads
    /// side by side; <c>hnd</c>: head-major).</summary>
    public string Label => Describe(Layout);

    /// <summary><see cref="Label"/> of <paramref name="layout"/>.</summary>
    public static string Describe(PagedKeyValueLayout layout) => $"paged{layout.PageSize} {(layout.HeadMajor ? "hnd" : "nhd")}";

    /// <summary>
    /// The pages of K and V given in BHSD order (contiguous), pages shuffled with <paramref name="seed"/>, head-major
    /// where <paramref name="headMajor"/>.
    /// </summary>
    public static PagedOperands<T> Create(AttentionShape shape, T[] keyBhsd, T[] valueBhsd, int pageSize, int seed, bool headMajor)
    {
        int perSequence = (shape.KeyLength + pageSize - 1) / pageSize;
        int pageCount = shape.Batch * perSequence;
        var table = Enumerable.Range(0, pageCount).ToArray();
        new Random(seed).Shuffle(table);
        var layout = new PagedKeyValueLayout(pageSize, perSequence, table, Enumerable.Repeat(shape.KeyLength, shape.Batch).ToArray())
        {
            HeadMajor = headMajor,
        };
        return new(Scatter(shape, keyBhsd, shape.HeadDim, layout), Scatter(shape, valueBhsd, shape.ValueHeadDim, layout), layout);
    }

    /// <summary>
    /// Rows of <paramref name="dim"/> elements given in BHSD order (<c>[B, Hkv, Lk, dim]</c>) into the pages of
    /// <paramref name="layout"/>, <c>[numPages, PageSize, Hkv, dim]</c> or head-major <c>[numPages, Hkv, PageSize, dim]</c>
    /// (an int8 cache's scales with a dim of 1).
    /// </summary>
    public static TElement[] Scatter<TElement>(AttentionShape shape, TElement[] bhsd, int dim, PagedKeyValueLayout layout)
    {
        int heads = shape.KeyValueHeads, pageSize = layout.PageSize, perSequence = layout.PagesPerSequence;
        var table = layout.BlockTable.Span;
        var pages = new TElement[(long)table.Length * pageSize * heads * dim];
        for (int b = 0; b < shape.Batch; b++)
        {
            for (int h = 0; h < heads; h++)
            {
                for (int j = 0; j < shape.KeyLength; j++)
                {
                    long page = table[(b * perSequence) + (j / pageSize)];
                    long place = layout.HeadMajor ? (((page * heads) + h) * pageSize) + (j % pageSize)
                        : (((page * pageSize) + (j % pageSize)) * heads) + h;
                    long source = ((((long)b * heads) + h) * shape.KeyLength + j) * dim;
                    Array.Copy(bhsd, source, pages, place * dim, dim);
                }
            }
        }

        return pages;
    }
}
