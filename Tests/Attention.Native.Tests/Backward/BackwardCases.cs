namespace Attention.Native.Tests.Backward;

/// <summary>
/// The backward's cases: the forward catalog's cases of every option that the float64 reference backward checks in
/// milliseconds, and cases of the backward's own (bias gradients of every broadcast, softcap with a bias, GQA with
/// masks, shapes across the key blocks and row tiles).
/// </summary>
public static class BackwardCases
{
    private static readonly string[] FromForwardCatalog =
    [
        "tiny-1x1-d1", "odd-7x7-d7", "odd-63x65-d33", "odd-65x63-d64", "lq-gt-lk-130x17", "lq-lt-lk-17x300",
        "headdim-1", "headdim-5", "headdim-31", "headdim-80", "dv-ne-d-64-32", "dv-ne-d-16-100",
        "gqa-8-8", "gqa-8-4", "gqa-8-2", "gqa-8-1", "decode-8-2", "decode-lq3-lk777", "scale-explicit",
        "causal-topleft-65x63", "causal-topleft-200x200", "causal-topleft-7x130", "causal-bottomright-7x130",
        "causal-bottomright-130x70", "window-left", "window-both", "window-causal", "softcap", "softcap-smallest-normal",
        "softcap-far-above-scores", "keylengths", "window-keylengths", "keylengths-bottomright",
        "mask-1x1", "mask-2x3", "bias-1x1", "bias-2x1", "bias-1x3", "bias-2x3", "mask-bias-softcap", "everything",
        "bshd", "strided", "bshd-blocks-100x500-d33-dv17", "packed-qkv-view-100-d7", "fully-masked-rows",
        "bottomright-lq-gt-lk-masked-rows", "bias-neg-infinity", "tiny-scores", "half-operands", "bf16-operands",
        "half-everything", "sinks-tiled-probabilities", "sinks-bottomright-masked-rows", "sinks-decode-gqa4",
        "sinks-splitkv-fully-masked", "sinks-half-operands", "sinks-dominant",
    ];

    private static readonly Dictionary<string, AttentionCase> Own = BuildOwn().ToDictionary(c => c.Name);

    /// <summary>Every backward case's name.</summary>
    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (string name in FromForwardCatalog.Concat(Own.Keys))
        {
            data.Add(name);
        }

        return data;
    }

    /// <summary>A subset covering every option, for each ISA variant and the tensor overload.</summary>
    public static readonly string[] VariantSubset =
    [
        "odd-63x65-d33", "causal-bottomright-7x130", "mask-bias-softcap", "window-keylengths", "gqa-8-2",
        "fully-masked-rows", "half-everything", "backward-bias-grad-gqa-softcap", "backward-blocks-150x200-d40",
        "sinks-tiled-probabilities", "backward-sinks-everything",
    ];

    public static AttentionCase Get(string name) => Own.TryGetValue(name, out var c) ? c : CaseCatalog.Get(name);

    private static IEnumerable<AttentionCase> BuildOwn()
    {
        // Several key blocks and row tiles, partial ones at both ends, odd head dims.
        yield return new("backward-blocks-150x200-d40", new(2, 2, 1, 150, 200, 40, 24))
        {
            Options = _ => new() { Causal = CausalMask.BottomRight },
        };
        yield return new("backward-blocks-65x129-d65", new(1, 3, 3, 65, 129, 65, 63));
        // Head dims past the large key blocks' limit (D + Dv > 256): the small blocks, three of them.
        yield return new("backward-blocks-40x150-d160", new(1, 2, 1, 40, 150, 160, 130)) { Options = _ => new() { Causal = CausalMask.BottomRight } };
        // The bias gradient summed over broadcast batch and heads, with GQA, a soft cap, a mask and a window.
        foreach (var (mb, mh) in new[] { (1, 1), (2, 1), (1, 4), (2, 4) })
        {
            yield return new($"backward-bias-grad-{mb}x{mh}", new(2, 4, 2, 33, 70, 16, 16))
            {
                Amplitude = 2f,
                Options = r => new()
                {
                    Bias = new(TestData.RandomBias(r, (long)mb * mh * 33 * 70), mb, mh),
                    Mask = new(TestData.RandomMask(r, 33L * 70, 0.8)),
                    Window = new(40, 10),
                },
            };
        }

        yield return new("backward-bias-grad-gqa-softcap", new(2, 6, 2, 40, 90, 24, 20))
        {
            Amplitude = 2f,
            Options = r => new()
            {
                Softcap = 3f,
                Causal = CausalMask.TopLeft,
                KeyLengths = new[] { 90, 33 },
                Bias = new(TestData.RandomBias(r, 6L * 40 * 90), 1, 6),
                Layout = AttentionLayout.Bshd,
            },
        };
        yield return new("backward-bf16-everything", new(2, 4, 1, 37, 77, 32, 32))
        {
            ElementType = typeof(BFloat16),
            Options = r => new()
            {
                Softcap = 5f,
                Causal = CausalMask.BottomRight,
                Mask = new(TestData.RandomMask(r, 2L * 37 * 77, 0.9), 2, 1),
                Bias = new(TestData.RandomBias(r, 37L * 77)),
            },
        };
        // Sinks with every other option, rows that see no key (key length 0) and a bias gradient beside the sinks'.
        yield return new("backward-sinks-everything", new(2, 6, 2, 40, 90, 24, 20))
        {
            Amplitude = 2f,
            Options = r => new()
            {
                Sinks = Enumerable.Range(0, 6).Select(_ => (r.NextSingle() * 6f) - 2f).ToArray(),
                Softcap = 3f,
                Causal = CausalMask.BottomRight,
                Window = new(30, -1),
                KeyLengths = new[] { 90, 0 },
                Mask = new(TestData.RandomMask(r, 40L * 90, 0.9)),
                Bias = new(TestData.RandomBias(r, 6L * 40 * 90), 1, 6),
                Layout = AttentionLayout.Bshd,
            },
        };
        yield return new("backward-half-gqa-bshd", new(1, 8, 2, 70, 70, 64, 64))
        {
            ElementType = typeof(Half),
            Options = _ => new() { Causal = CausalMask.TopLeft, Layout = AttentionLayout.Bshd },
        };
    }
}
