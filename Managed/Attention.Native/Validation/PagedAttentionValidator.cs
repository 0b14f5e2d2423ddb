namespace Attention.Native.Validation;

/// <summary>
/// Checks a paged attention call (<see cref="PagedKeyValueLayout"/>) and resolves it into an
/// <see cref="AttentionProblem"/> whose K and V strides address one page's rows and whose
/// <see cref="AttentionProblem.Paging"/> maps each sequence's keys to pages; the rest as <see cref="AttentionValidator"/>.
/// </summary>
internal static class PagedAttentionValidator
{
    /// <summary>Lengths of the caller's operands, in elements; −1 for a log-sum-exp that was not requested.</summary>
    public readonly record struct OperandLengths(long Query, long KeyPages, long ValuePages, long Output, long LogSumExp);

    public static AttentionProblem Validate(
        AttentionShape shape, AttentionOptions options, PagedKeyValueLayout pages, OperandLengths lengths)
    {
        ArgumentNullException.ThrowIfNull(pages);
        AttentionValidator.ValidateShape(shape);

        if (!options.KeyLengths.IsEmpty)
        {
            throw new ArgumentException(
                "options.KeyLengths must be empty for paged K/V: pages.SequenceLengths gives each sequence's length.", nameof(options));
        }

        if (options.KeyStrides is not null || options.ValueStrides is not null)
        {
            throw new ArgumentException(
                "options.KeyStrides and options.ValueStrides must be null for paged K/V: pages are [numPages, PageSize, Hkv, D].",
                nameof(options));
        }

        if (pages.PageSize < 1 || pages.PagesPerSequence < 1)
        {
            throw new ArgumentOutOfRangeException(
                nameof(pages), pages.PageSize < 1 ? pages.PageSize : pages.PagesPerSequence,
                "pages.PageSize and pages.PagesPerSequence must be at least 1.");
        }

        long capacity = (long)pages.PageSize * pages.PagesPerSequence;
        if (pages.BlockTable.Length != (long)shape.Batch * pages.PagesPerSequence)
        {
            throw new ArgumentException(
                $"pages.BlockTable has {pages.BlockTable.Length} entries; [B={shape.Batch}, PagesPerSequence={pages.PagesPerSequence}] needs {(long)shape.Batch * pages.PagesPerSequence}.",
                nameof(pages));
        }

        if (pages.SequenceLengths.Length != shape.Batch)
        {
            throw new ArgumentException(
                $"pages.SequenceLengths has {pages.SequenceLengths.Length} entries; it needs one per sequence ({shape.Batch}).",
                nameof(pages));
        }

        long keyRow = (long)shape.KeyValueHeads * shape.HeadDim;
        long valueRow = (long)shape.KeyValueHeads * shape.ValueHeadDim;
        long keyPages = lengths.KeyPages / (keyRow * pages.PageSize);
        long valuePages = lengths.ValuePages / (valueRow * pages.PageSize);
        if (keyPages < 1 || valuePages < 1)
        {
            string name = keyPages < 1 ? "keyPages" : "valuePages";
            throw new ArgumentException(
                $"{name} holds less than one page of [PageSize={pages.PageSize}, Hkv={shape.KeyValueHeads}, {(keyPages < 1 ? "D" : "Dv")}={(keyPages < 1 ? shape.HeadDim : shape.ValueHeadDim)}].",
                name);
        }

        long pageCount = Math.Min(keyPages, valuePages);
        var table = pages.BlockTable.ToArray();
        var sequenceLengths = pages.SequenceLengths.Span;
        for (int b = 0; b < shape.Batch; b++)
        {
            int length = sequenceLengths[b];
            if (length < 0 || length > Math.Min(capacity, shape.KeyLength))
            {
                throw new ArgumentOutOfRangeException(
                    nameof(pages), length,
                    $"pages.SequenceLengths[{b}] is {length}; it must be in [0, min(shape.KeyLength={shape.KeyLength}, PagesPerSequence·PageSize={capacity})].");
            }

            int used = (int)(((long)length + pages.PageSize - 1) / pages.PageSize);
            for (int i = 0; i < used; i++)
            {
                int page = table[((long)b * pages.PagesPerSequence) + i];
                if (page < 0 || page >= pageCount)
                {
                    throw new ArgumentOutOfRangeException(
                        nameof(pages), page,
                        $"pages.BlockTable[{b}, {i}] is {page}; sequence {b} reads it, and keyPages and valuePages hold {keyPages} and {valuePages} pages.");
                }
            }
        }

        var paging = new KeyValuePaging { PageSize = pages.PageSize, PagesPerSequence = pages.PagesPerSequence, BlockTable = table };
        var resolved = options with
        {
            KeyStrides = PageStrides(pages, shape.KeyValueHeads, shape.HeadDim),
            ValueStrides = PageStrides(pages, shape.KeyValueHeads, shape.ValueHeadDim),
            KeyLengths = sequenceLengths.ToArray(),
        };

        // K and V were checked page by page above: their extents through the strides alone (one sequence's keys as
        // consecutive rows) do not apply.
        return AttentionValidator.Validate(
            shape, resolved, new(lengths.Query, long.MaxValue, long.MaxValue, lengths.Output, lengths.LogSumExp, -1), paging);
    }

    /// <summary>
    /// Strides of K or V pages as the kernels take them (<see cref="AttentionProblem.RowOffset"/>): between pages (in the
    /// batch stride), heads and a page's slots.
    /// </summary>
    public static TensorStrides PageStrides(PagedKeyValueLayout pages, int heads, int dim)
    {
        long page = (long)pages.PageSize * heads * dim;
        return pages.HeadMajor ? new(page, (long)pages.PageSize * dim, dim) : new(page, dim, (long)heads * dim);
    }
}
