namespace Attention.Native.Perf.Workloads;

/// <summary>The fixed list of shapes that <c>compare</c> and <c>bench</c> measure.</summary>
internal static class PerfCatalog
{
    private static readonly List<PerfCase> Cases = Build();

    public static IReadOnlyList<PerfCase> All => Cases;

    /// <summary>
    /// A stable per-case seed offset, whatever the filter: the position of the case's BHSD twin among the BHSD cases,
    /// so a BSHD case is timed on the same values as its twin.
    /// </summary>
    public static int IndexOf(PerfCase perfCase) =>
        Cases.Where(c => c.Layout == AttentionLayout.Bhsd).ToList().IndexOf(perfCase with { Layout = AttentionLayout.Bhsd });

    /// <summary>Cases whose <see cref="PerfCase.Label"/> contains any of the comma-separated substrings.</summary>
    public static IReadOnlyList<PerfCase> Filter(string? filter)
    {
        if (string.IsNullOrWhiteSpace(filter))
        {
            return All;
        }

        string[] parts = filter.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return [.. All.Where(c => parts.Any(p => c.Label.Contains(p, StringComparison.OrdinalIgnoreCase)))];
    }

    private static List<PerfCase> Build()
    {
        var cases = new List<PerfCase>();
        foreach (var (heads, length, dim) in new[] { (8, 128, 64), (8, 512, 64), (8, 2048, 64), (16, 1024, 128) })
        {
            var shape = new AttentionShape(batch: 1, heads, length, length, dim);
            string name = $"self-h{heads}-l{length}-d{dim}";
            foreach (var mask in new[] { CausalMask.None, CausalMask.TopLeft })
            {
                AddInBothLayouts(cases, new PerfCase(name, shape, mask));
            }
        }

        AddInBothLayouts(cases, new PerfCase("decode-gqa-hq32-hkv8-lk4096-d128", new AttentionShape(1, 32, 8, 1, 4096, 128, 128), CausalMask.None));
        AddInBothLayouts(cases, new PerfCase("decode-mha-hq32-lk4096-d128", new AttentionShape(1, 32, 32, 1, 4096, 128, 128), CausalMask.None));
        cases.Add(new PerfCase("cross-h8-lq64-lk1024-d64", new AttentionShape(batch: 1, heads: 8, 64, 1024, 64), CausalMask.None));

        // The seed's Keras SelfAttention on [32, 64, 512]: d_model 512 as 8 heads of 64.
        AddInBothLayouts(cases, new PerfCase("seed-b32-h8-l64-d64", new AttentionShape(batch: 32, heads: 8, 64, 64, 64), CausalMask.None));
        return cases;
    }

    /// <summary>
    /// The BHSD case, then the same problem on <c>[B, L, H, D]</c> operands (<c>-bshd</c>), the layout a model's
    /// projections produce, listed next to each other so the tables show the two side by side.
    /// </summary>
    private static void AddInBothLayouts(List<PerfCase> cases, PerfCase bhsd)
    {
        cases.Add(bhsd);
        cases.Add(bhsd with { Layout = AttentionLayout.Bshd });
    }
}
