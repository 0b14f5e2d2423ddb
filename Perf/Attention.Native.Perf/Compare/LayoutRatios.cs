namespace Attention.Native.Perf.Compare;

/// <summary>
/// Sets <see cref="CompareRow.BshdOverBhsd"/> on the library's BSHD rows: the time of the BHSD twin (the same shape,
/// mask, backend, variant, operand type and thread count) over the row's, i.e. the BSHD rate over the BHSD rate.
/// </summary>
internal static class LayoutRatios
{
    public static List<CompareRow> Fill(IReadOnlyList<CompareRow> rows)
    {
        var bhsd = rows.Where(r => r.Peer is null && r.Case.Layout == AttentionLayout.Bhsd)
            .GroupBy(Twin)
            .ToDictionary(g => g.Key, g => g.First().Median);
        return [.. rows.Select(r => r.Peer is null && r.Case.Layout == AttentionLayout.Bshd && bhsd.TryGetValue(Twin(r), out var time)
            ? r with { BshdOverBhsd = time / r.Median }
            : r)];
    }

    private static (string Shape, CausalMask Mask, AttentionBackendKind Backend, string Variant, OperandType Dtype, int Threads, int PageSize) Twin(CompareRow row) =>
        (row.Case.ShapeName, row.Case.Causal, row.Backend, row.Variant, row.Dtype, row.Threads, row.PageSize);
}
