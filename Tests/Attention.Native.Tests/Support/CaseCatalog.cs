namespace Attention.Native.Tests.Support;

/// <summary>Named attention cases: odd sizes, every option, their combinations, each element type.</summary>
public static class CaseCatalog
{
    private static readonly Dictionary<string, AttentionCase> Cases = Build().ToDictionary(c => c.Name);

    public static AttentionCase Get(string name) => Cases[name];

    public static TheoryData<string> Names(Func<AttentionCase, bool>? filter = null)
    {
        var data = new TheoryData<string>();
        foreach (var c in Cases.Values.Where(filter ?? (_ => true)))
        {
            data.Add(c.Name);
        }

        return data;
    }

    /// <summary>A small set that exercises both kernels and the main options, for per-variant runs.</summary>
    public static readonly string[] VariantSubset =
    [
        "odd-63x65-d33", "decode-gqa4-lk1000", "causal-topleft-65x63", "causal-bottomright-7x130", "mask-bias-softcap",
        "window-keylengths", "probabilities-causal", "half-operands", "decode-split-lk2100", "fully-masked-rows",
        "decode-tiles-g4-lq2", "decode-tiles-g3-lq3",
    ];

    private static IEnumerable<AttentionCase> Build() => BuildOptions().Concat(SinkCases());

    /// <summary>
    /// Attention sinks on every kernel: tiled (with the probabilities pass), decode, split-KV with several splits and
    /// one, mma in 16 bits; rows that see no key (key length 0, bottom-right rows above the diagonal) give O = 0 and
    /// lse = the sink.
    /// </summary>
    private static IEnumerable<AttentionCase> SinkCases()
    {
        static float[] Sinks(Random r, int heads) => [.. Enumerable.Range(0, heads).Select(_ => (r.NextSingle() * 6f) - 2f)];
        yield return new("sinks-tiled-probabilities", new(2, 4, 2, 33, 65, 32, 32))
        {
            WithProbabilities = true,
            Options = r => new() { Sinks = Sinks(r, 4), KeyLengths = new[] { 65, 0 }, Causal = CausalMask.TopLeft },
        };
        yield return new("sinks-bottomright-masked-rows", new(1, 2, 2, 50, 20, 16, 16))
        {
            Options = r => new() { Sinks = Sinks(r, 2), Causal = CausalMask.BottomRight, Softcap = 4f, Window = new(9, -1) },
        };
        yield return new("sinks-decode-gqa4", new(2, 8, 2, 1, 300, 64, 64)) { Options = r => new() { Sinks = Sinks(r, 8) } };
        yield return new("sinks-decode-split-lk2100", new(1, 4, 1, 2, 2100, 64, 64))
        {
            Options = r => new() { Sinks = Sinks(r, 4), Causal = CausalMask.BottomRight, KeyLengths = new[] { 2001 } },
        };
        yield return new("sinks-splitkv-fully-masked", new(2, 4, 2, 3, 1200, 32, 32))
        {
            Options = r => new() { Sinks = Sinks(r, 4), KeyLengths = new[] { 1200, 0 } },
        };
        yield return new("sinks-half-operands", new(1, 4, 2, 65, 80, 64, 64))
        {
            ElementType = typeof(Half),
            Options = r => new() { Sinks = Sinks(r, 4), Causal = CausalMask.BottomRight },
        };
        yield return new("sinks-bf16-decode", new(1, 4, 1, 1, 600, 128, 128))
        {
            ElementType = typeof(BFloat16),
            Options = r => new() { Sinks = Sinks(r, 4) },
        };
        // A sink far above every score: O is a small fraction of the no-sink output, and lse is the sink's.
        yield return new("sinks-dominant", new(1, 2, 2, 9, 40, 16, 16)) { Options = _ => new() { Sinks = new[] { 30f, 12f } } };
    }

    private static IEnumerable<AttentionCase> BuildOptions()
    {
        // Sizes: 1, 7, 63, 65, 127, 1000; head dims across the fast path (multiples of 6) and its tails.
        yield return new("tiny-1x1-d1", new(1, 1, 1, 1, 1, 1, 1));
        yield return new("odd-7x7-d7", new(1, 2, 2, 7, 7, 7, 7));
        yield return new("odd-63x65-d33", new(2, 3, 3, 63, 65, 33, 33));
        yield return new("odd-65x63-d64", new(1, 2, 2, 65, 63, 64, 64));
        yield return new("odd-127x127-d128", new(1, 2, 2, 127, 127, 128, 128));
        yield return new("long-1000x1000-d64", new(1, 1, 1, 1000, 1000, 64, 64));
        yield return new("lq-gt-lk-130x17", new(2, 2, 2, 130, 17, 16, 16));
        yield return new("lq-lt-lk-17x300", new(1, 2, 2, 17, 300, 48, 48));
        foreach (int d in new[] { 1, 2, 5, 6, 8, 12, 31, 32, 80, 96, 160, 192, 200, 256 })
        {
            yield return new($"headdim-{d}", new(1, 2, 2, 37, 45, d, d));
        }

        yield return new("dv-ne-d-64-32", new(1, 2, 2, 40, 50, 64, 32));
        yield return new("dv-ne-d-16-100", new(1, 2, 2, 40, 50, 16, 100));
        foreach (int kv in new[] { 8, 4, 2, 1 })
        {
            yield return new($"gqa-8-{kv}", new(2, 8, kv, 33, 70, 32, 32));
            yield return new($"decode-8-{kv}", new(2, 8, kv, 1, 300, 64, 64));
        }

        yield return new("decode-gqa4-lk1000", new(1, 8, 2, 1, 1000, 128, 128));
        yield return new("decode-lq3-lk777", new(2, 4, 2, 3, 777, 24, 40)) { Options = _ => new() { Causal = CausalMask.BottomRight } };
        yield return new("decode-lq4-d7", new(1, 3, 1, 4, 129, 7, 7));
        yield return new("decode-split-lk2100", new(1, 2, 1, 1, 2100, 64, 64));
        yield return new("decode-split-lk5000-keylengths", new(2, 4, 1, 2, 5000, 32, 32))
        {
            Options = _ => new() { KeyLengths = new[] { 4321, 3 }, Causal = CausalMask.BottomRight },
        };

        yield return new("scale-explicit", new(1, 2, 2, 20, 30, 16, 16)) { Options = _ => new() { Scale = 0.37f } };
        yield return new("causal-topleft-65x63", new(1, 2, 2, 65, 63, 32, 32)) { Options = _ => new() { Causal = CausalMask.TopLeft } };
        yield return new("causal-topleft-200x200", new(1, 2, 2, 200, 200, 64, 64)) { Options = _ => new() { Causal = CausalMask.TopLeft } };
        yield return new("causal-topleft-7x130", new(1, 2, 2, 7, 130, 16, 16)) { Options = _ => new() { Causal = CausalMask.TopLeft } };
        yield return new("causal-bottomright-7x130", new(1, 2, 2, 7, 130, 16, 16)) { Options = _ => new() { Causal = CausalMask.BottomRight } };
        yield return new("causal-bottomright-130x70", new(1, 2, 2, 130, 70, 16, 16)) { Options = _ => new() { Causal = CausalMask.BottomRight } };
        yield return new("causal-bottomright-1000", new(1, 1, 1, 1000, 1000, 32, 32)) { Options = _ => new() { Causal = CausalMask.BottomRight } };
        yield return new("window-left", new(1, 2, 2, 150, 150, 16, 16)) { Options = _ => new() { Window = new(20, -1) } };
        yield return new("window-both", new(1, 2, 2, 150, 170, 16, 16)) { Options = _ => new() { Window = new(13, 5) } };
        yield return new("window-causal", new(1, 2, 2, 150, 150, 16, 16)) { Options = _ => new() { Window = SlidingWindow.Causal(30), Causal = CausalMask.TopLeft } };
        yield return new("softcap", new(1, 2, 2, 33, 65, 32, 32)) { Amplitude = 3f, Options = _ => new() { Softcap = 5f } };
        // The smallest cap accepted (the smallest normal float): every capped score is ±cap, so the weights are uniform.
        yield return new("softcap-smallest-normal", new(1, 2, 2, 9, 20, 16, 16)) { Options = _ => new() { Softcap = 1.17549435E-38f } };
        yield return new("softcap-smallest-normal-decode", new(1, 4, 2, 1, 300, 16, 16)) { Options = _ => new() { Softcap = 1.17549435E-38f } };
        // A cap far above the scores leaves them as they are: tanh(s/cap) at s/cap near 1e-8 must keep its digits.
        yield return new("softcap-far-above-scores", new(1, 2, 2, 33, 65, 32, 32)) { Options = _ => new() { Softcap = 1e8f } };
        yield return new("softcap-far-above-scores-decode", new(1, 4, 2, 1, 300, 16, 16)) { Options = _ => new() { Softcap = 1e8f } };
        yield return new("keylengths", new(3, 2, 2, 40, 90, 16, 16)) { Options = _ => new() { KeyLengths = new[] { 90, 1, 47 } } };
        yield return new("window-keylengths", new(3, 2, 2, 40, 90, 16, 16))
        {
            Options = _ => new() { KeyLengths = new[] { 60, 0, 89 }, Window = new(10, 3) },
        };
        yield return new("keylengths-bottomright", new(2, 2, 2, 40, 90, 16, 16))
        {
            Options = _ => new() { KeyLengths = new[] { 55, 20 }, Causal = CausalMask.BottomRight },
        };
        foreach (var (mb, mh) in new[] { (1, 1), (2, 1), (1, 3), (2, 3) })
        {
            var shape = new AttentionShape(2, 3, 3, 21, 34, 16, 16);
            yield return new($"mask-{mb}x{mh}", shape)
            {
                Options = r => new() { Mask = new(TestData.RandomMask(r, (long)mb * mh * 21 * 34), mb, mh) },
            };
            yield return new($"bias-{mb}x{mh}", shape)
            {
                Options = r => new() { Bias = new(TestData.RandomBias(r, (long)mb * mh * 21 * 34), mb, mh) },
            };
        }

        yield return new("mask-bias-softcap", new(2, 4, 2, 70, 66, 40, 24))
        {
            Amplitude = 2f,
            Options = r => new()
            {
                Softcap = 7f,
                Mask = new(TestData.RandomMask(r, 2L * 70 * 66), 2, 1),
                Bias = new(TestData.RandomBias(r, 4L * 70 * 66), 1, 4),
                Causal = CausalMask.TopLeft,
            },
        };
        yield return new("everything", new(2, 6, 3, 45, 77, 20, 28))
        {
            Amplitude = 2f,
            WithProbabilities = true,
            Options = r => new()
            {
                Scale = 0.2f,
                Softcap = 4f,
                Causal = CausalMask.BottomRight,
                Window = new(25, 2),
                KeyLengths = new[] { 70, 50 },
                Mask = new(TestData.RandomMask(r, 2L * 6 * 45 * 77, 0.9), 2, 6),
                Bias = new(TestData.RandomBias(r, 45L * 77)),
                Layout = AttentionLayout.Bshd,
            },
        };
        yield return new("bshd", new(2, 4, 2, 33, 47, 24, 24)) { Options = _ => new() { Layout = AttentionLayout.Bshd } };
        yield return new("bshd-decode", new(2, 4, 2, 1, 470, 24, 24)) { Options = _ => new() { Layout = AttentionLayout.Bshd } };
        yield return new("strided", new(2, 3, 3, 19, 23, 10, 12))
        {
            // Padded rows, heads and batches; K and V interleaved like a packed KV projection.
            Options = _ => new()
            {
                QueryStrides = new(3 * 19 * 13 + 5, 19 * 13 + 2, 13),
                KeyStrides = new(23 * 3 * 22, 22, 3 * 22),
                ValueStrides = new(23 * 3 * 22, 22, 3 * 22),
                OutputStrides = new(3 * 19 * 15 + 1, 19 * 15, 15),
            },
            Sizes = _ => new(2 * (3 * 19 * 13 + 5), 2 * 23 * 3 * 22, 2 * 23 * 3 * 22, 2 * (3 * 19 * 15 + 1)),
        };
        // Strided K/V rows the tiled kernel stages block by block where an item walks more than two key blocks (batch
        // 0 here; batch 1's 60 keys stay in place): a partial last block, odd head dims, grouped heads, a causal mask
        // and the probabilities pass, which stages the keys again.
        yield return new("bshd-blocks-100x500-d33-dv17", new(2, 4, 2, 100, 500, 33, 17))
        {
            WithProbabilities = true,
            Options = _ => new() { Layout = AttentionLayout.Bshd, Causal = CausalMask.BottomRight, KeyLengths = new[] { 500, 60 } },
        };
        yield return new("packed-qkv-view-100-d7", new(2, 4, 4, 100, 100, 7, 7))
        {
            // Q, K and V as views of one [B, L, 3, H, D] projection (BERT's), the output [B, L, H, D].
            Options = _ => new()
            {
                QueryStrides = new(100 * 3 * 4 * 7, 7, 3 * 4 * 7),
                KeyStrides = new(100 * 3 * 4 * 7, 7, 3 * 4 * 7),
                ValueStrides = new(100 * 3 * 4 * 7, 7, 3 * 4 * 7),
                OutputStrides = new(100 * 4 * 7, 7, 4 * 7),
            },
            Sizes = _ => new(2 * 100 * 3 * 4 * 7, 2 * 100 * 3 * 4 * 7, 2 * 100 * 3 * 4 * 7, 2 * 100 * 4 * 7),
        };
        yield return new("broadcast-kv-stride0", new(2, 2, 2, 9, 11, 8, 8))
        {
            Options = _ => new() { KeyStrides = new(0, 0, 8), ValueStrides = new(0, 0, 8) },
            Sizes = s => new(s.QueryElementCount, 11 * 8, 11 * 8, s.OutputElementCount),
        };
        yield return new("probabilities", new(2, 2, 1, 30, 50, 16, 16)) { WithProbabilities = true };
        yield return new("probabilities-causal", new(1, 2, 2, 70, 70, 16, 16))
        {
            WithProbabilities = true,
            Options = _ => new() { Causal = CausalMask.TopLeft },
        };
        yield return new("probabilities-decode-shape", new(1, 4, 2, 1, 100, 16, 16)) { WithProbabilities = true };
        yield return new("fully-masked-rows", new(2, 2, 2, 20, 30, 16, 16))
        {
            WithProbabilities = true,
            Options = r =>
            {
                var mask = TestData.RandomMask(r, 20L * 30);
                Array.Fill(mask, false, 3 * 30, 30);
                Array.Fill(mask, false, 11 * 30, 30);
                return new() { Mask = new(mask), KeyLengths = new[] { 30, 0 } };
            },
        };
        yield return new("bottomright-lq-gt-lk-masked-rows", new(1, 2, 2, 50, 20, 16, 16))
        {
            Options = _ => new() { Causal = CausalMask.BottomRight },
        };
        yield return new("bias-neg-infinity", new(1, 1, 1, 10, 12, 8, 8))
        {
            Options = r =>
            {
                var bias = TestData.RandomBias(r, 120);
                Array.Fill(bias, float.NegativeInfinity, 24, 12);
                bias[5] = float.NegativeInfinity;
                return new() { Bias = new(bias) };
            },
        };
        // Scores near 1e5 (far past exp's overflow) carry float rounding errors of up to ~0.03 (D·ε·|q|·|k|·scale)
        // in any fp32 kernel, which shifts the weights of nearly tied keys: the kernel missed 1e-5 for ~2 % of seeds
        // (worst 9e-4 in 3000), and float scores with an exact double softmax miss by as much. What these cases
        // check is that nothing overflows: no NaN, no ∞, each row dominated by its largest scores.
        yield return new("huge-scores", new(1, 2, 2, 40, 50, 32, 32)) { Amplitude = 300f, Tolerance = 1e-2 };
        yield return new("tiny-scores", new(1, 2, 2, 40, 50, 32, 32)) { Amplitude = 1e-18f };
        yield return new("huge-scores-decode", new(1, 2, 2, 1, 500, 32, 32)) { Amplitude = 300f, Tolerance = 1e-2 };
        yield return new("half-operands", new(1, 4, 2, 45, 67, 64, 64)) { ElementType = typeof(Half) };
        yield return new("half-decode", new(1, 4, 2, 2, 600, 64, 64)) { ElementType = typeof(Half) };
        yield return new("bf16-operands", new(1, 4, 2, 45, 67, 64, 64)) { ElementType = typeof(BFloat16), Options = _ => new() { Causal = CausalMask.TopLeft } };
        yield return new("bf16-decode", new(1, 4, 1, 1, 600, 128, 128)) { ElementType = typeof(BFloat16) };
        yield return new("half-everything", new(2, 4, 2, 33, 40, 16, 16))
        {
            ElementType = typeof(Half),
            WithProbabilities = true,
            Options = r => new()
            {
                Softcap = 3f,
                Mask = new(TestData.RandomMask(r, 33L * 40)),
                Bias = new(TestData.RandomBias(r, 2L * 4 * 33 * 40), 2, 4),
                Causal = CausalMask.BottomRight,
                Layout = AttentionLayout.Bshd,
            },
        };

        // Split-KV decode: many key splits per (kv head, batch), GQA rows across several 16-row blocks, every option.
        // The CPU decode kernel's four-row tiles and their remainders: group sizes 1–16, Lq 1–4 (rows =
        // Lq·group), a partial last key block, D and Dv off the vector widths, every score option.
        foreach (int group in new[] { 1, 2, 3, 4, 8, 16 })
        {
            for (int lq = 1; lq <= 4; lq++)
            {
                int heads = 2 * group;
                int length = lq;
                yield return new($"decode-tiles-g{group}-lq{lq}", new(2, heads, 2, lq, 150, 40, 24))
                {
                    Amplitude = 2f,
                    Options = r => new()
                    {
                        Softcap = 5f,
                        Causal = length % 2 == 0 ? CausalMask.BottomRight : CausalMask.TopLeft,
                        Window = new(100, -1),
                        KeyLengths = new[] { 150, 70 },
                        Mask = new(TestData.RandomMask(r, 2L * length * 150, 0.9), 2, 1),
                        Bias = new(TestData.RandomBias(r, (long)heads * length * 150), 1, heads),
                    },
                };
            }
        }

        yield return new("splitkv-everything", new(2, 8, 2, 3, 3000, 128, 96))
        {
            Amplitude = 2f,
            Options = r => new()
            {
                Softcap = 6f,
                Causal = CausalMask.BottomRight,
                Window = new(700, -1),
                KeyLengths = new[] { 2900, 1000 },
                Mask = new(TestData.RandomMask(r, 2L * 3 * 3000, 0.8), 2, 1),
                Bias = new(TestData.RandomBias(r, 8L * 3 * 3000), 1, 8),
                Layout = AttentionLayout.Bshd,
            },
        };
        yield return new("splitkv-gqa8-rows40", new(1, 16, 2, 5, 1500, 64, 64)) { Options = _ => new() { Causal = CausalMask.BottomRight } };
        yield return new("splitkv-half-lk4096", new(1, 8, 2, 1, 4096, 128, 128)) { ElementType = typeof(Half) };
        yield return new("splitkv-bf16-lk4096-d256", new(2, 4, 1, 2, 4096, 256, 256)) { ElementType = typeof(BFloat16) };
        yield return new("splitkv-fully-masked", new(2, 4, 2, 4, 1200, 32, 32))
        {
            Options = r =>
            {
                var mask = TestData.RandomMask(r, 2L * 4 * 1200);
                Array.Fill(mask, false, 2 * 1200, 1200);
                return new() { Mask = new(mask, 2, 1), KeyLengths = new[] { 1200, 0 } };
            },
        };
    }
}
