namespace Attention.Native.Perf.Device;

/// <summary>
/// Draws the correctness sweep's cases: random shapes with odd sizes, every option, each element type and layout,
/// each sized so that the float64 reference stays fast (<see cref="WorkLimit"/>). The same sweep seed draws the same
/// cases; every feature in <see cref="RequiredFeatures"/> must appear (checked by <see cref="MissingFeatures"/>).
/// </summary>
internal static class SweepCatalog
{
    /// <summary>Most <c>B·Hq·Lq·Lk·(D + Dv)</c> per case: the float64 reference's cost (about 10-30 ms on one core).</summary>
    public const double WorkLimit = 4e6;

    /// <summary>The odd sizes DESIGN.md §7 names; each appears as a length or a head dim.</summary>
    public static readonly int[] OddSizes = [1, 7, 63, 65, 127];

    private static readonly int[] Lengths = [1, 2, 3, 7, 8, 16, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 200, 255, 256, 300, 513];

    private static readonly int[] DecodeQueryLengths = [1, 1, 1, 2, 3, 4, 7];

    private static readonly int[] DecodeKeyLengths = [63, 65, 127, 300, 1000, 2100, 4099, 6000];

    private static readonly int[] Dims = [1, 2, 3, 5, 7, 8, 12, 16, 24, 31, 32, 33, 40, 48, 63, 64, 65, 80, 96, 100, 127, 128, 160, 192, 200, 255, 256];

    /// <summary>What a sweep of at least a few hundred cases must cover.</summary>
    public static readonly string[] RequiredFeatures =
    [
        "dtype:float", "dtype:half", "dtype:bf16",
        "layout:bhsd", "layout:bshd", "layout:padded", "layout:packed-kv", "layout:broadcast-kv",
        "api:spans", "api:tensors", "heads:mha", "heads:gqa", "heads:mqa", "lengths:lq<lk", "lengths:lq>lk", "lengths:equal", "decode", "dv:differs",
        "size:1", "size:7", "size:63", "size:65", "size:127", "d:256", "d:129+", "lk:2048+",
        "scale", "causal:top-left", "causal:bottom-right", "window", "keylengths", "keylength:0",
        "mask:1x1", "mask:Bx1", "mask:1xH", "mask:BxH", "mask:tensor", "masked-rows",
        "bias:1x1", "bias:Bx1", "bias:1xH", "bias:BxH", "bias:tensor", "bias:-inf",
        "softcap", "lse", "probs", "scores:huge", "scores:tiny",
    ];

    /// <summary>Draws <paramref name="count"/> cases from <paramref name="seed"/>.</summary>
    public static IReadOnlyList<SweepCase> Generate(int count, int seed)
    {
        var cases = new SweepCase[count];
        for (int i = 0; i < count; i++)
        {
            cases[i] = Draw(i, CaseSeed(seed, i));
        }

        return cases;
    }

    /// <summary>The required features that no case covers (a <c>name=value</c> token counts as its name).</summary>
    public static IReadOnlyList<string> MissingFeatures(IEnumerable<SweepCase> cases)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in cases)
        {
            foreach (string feature in c.Features)
            {
                int equals = feature.IndexOf('=', StringComparison.Ordinal);
                seen.Add(equals < 0 ? feature : feature[..equals]);
            }
        }

        return [.. RequiredFeatures.Where(f => !seen.Contains(f))];
    }

    /// <summary>How many cases cover each required feature.</summary>
    public static IReadOnlyList<(string Feature, int Cases)> Coverage(IReadOnlyList<SweepCase> cases)
    {
        var counts = RequiredFeatures.ToDictionary(f => f, _ => 0, StringComparer.Ordinal);
        foreach (var c in cases)
        {
            foreach (string feature in c.Features)
            {
                int equals = feature.IndexOf('=', StringComparison.Ordinal);
                string name = equals < 0 ? feature : feature[..equals];
                if (counts.TryGetValue(name, out int n))
                {
                    counts[name] = n + 1;
                }
            }
        }

        return [.. RequiredFeatures.Select(f => (f, counts[f]))];
    }

    /// <summary>
    /// Case <paramref name="index"/>'s own seed: SplitMix64 over the run's seed and the index, the same in every process
    /// (HashCode.Combine is randomised per process, and the device script runs one sweep process per kernel variant on
    /// one seed: they must draw the same cases).
    /// </summary>
    private static int CaseSeed(int seed, int index)
    {
        ulong z = unchecked(((ulong)(uint)seed << 32 | (uint)index) + 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return (int)((z ^ (z >> 31)) & int.MaxValue);
    }

    private static SweepCase Draw(int index, int seed)
    {
        var r = new Random(seed);
        var type = (SweepType)r.Next(3);
        double magnitude = r.NextDouble();
        // Tiny Q and K: 1e-18 in float and BFloat16 (scores ~1e-36 would underflow an unscaled product); Half has no
        // such range, so there "tiny" is 1e-3.
        float amplitude = magnitude < 0.06 ? 300f : magnitude < 0.11 ? (type == SweepType.Half ? 1e-3f : 1e-18f) : 1f;

        int kvHeads = Pick(r, [1, 1, 2, 2, 3, 4]);
        int group = Pick(r, [1, 1, 2, 3, 4, 8]);
        int batch = Pick(r, [1, 1, 2, 3]);
        bool decode = r.NextDouble() < 0.2;
        int lq = decode ? Pick(r, DecodeQueryLengths) : Pick(r, Lengths);
        int lk = decode ? Pick(r, DecodeKeyLengths) : Pick(r, Lengths);
        int d = Pick(r, Dims);
        int dv = r.NextDouble() < 0.65 ? d : Pick(r, Dims);

        // Shrink to the reference's budget: batch first, then heads, then the longer length.
        while ((double)batch * kvHeads * group * lq * lk * (d + dv) > WorkLimit)
        {
            if (batch > 1)
            {
                batch--;
            }
            else if (kvHeads * group > 2)
            {
                if (kvHeads > 1)
                {
                    kvHeads--;
                }
                else
                {
                    group = Math.Max(1, group / 2);
                }
            }
            else if (lq >= lk && lq > 1)
            {
                lq = (lq / 2) | 1;
            }
            else
            {
                lk = Math.Max(1, (lk / 2) | 1);
            }
        }

        var shape = new AttentionShape(batch, kvHeads * group, kvHeads, lq, lk, d, dv);
        double layoutDraw = r.NextDouble();
        var layout = layoutDraw < 0.35 ? SweepLayout.Bhsd
            : layoutDraw < 0.6 ? SweepLayout.Bshd
            : layoutDraw < 0.75 ? SweepLayout.Padded
            : layoutDraw < 0.9 ? SweepLayout.PackedKv
            : SweepLayout.BroadcastKv;
        bool viaTensors = r.NextDouble() < 0.5;

        float? scale = r.NextDouble() < 0.3 ? 0.02f + (1.5f * r.NextSingle()) : null;
        double causalDraw = r.NextDouble();
        var causal = causalDraw < 0.45 ? CausalMask.None : causalDraw < 0.725 ? CausalMask.TopLeft : CausalMask.BottomRight;
        SlidingWindow? window = null;
        if (r.NextDouble() < 0.2)
        {
            int left = r.NextDouble() < 0.2 ? -1 : r.Next(0, lk + 2);
            int right = r.NextDouble() < 0.4 ? -1 : r.Next(0, 8);
            window = new SlidingWindow(left, right);
        }

        int[]? keyLengths = null;
        if (r.NextDouble() < 0.25)
        {
            keyLengths = new int[batch];
            for (int b = 0; b < batch; b++)
            {
                double draw = r.NextDouble();
                keyLengths[b] = draw < 0.15 ? 0 : draw < 0.3 ? lk : r.Next(1, lk + 1);
            }
        }

        ScoresForm? mask = null;
        double density = 0.7;
        int maskedRows = 0;
        if (r.NextDouble() < 0.3)
        {
            mask = DrawForm(r, batch, shape.QueryHeads, viaTensors);
            density = Pick(r, [0.3, 0.7, 0.95]);
            maskedRows = r.NextDouble() < 0.4 ? r.Next(1, Math.Min(3, lq) + 1) : 0;
        }

        ScoresForm? bias = null;
        bool negativeInfinity = false;
        if (r.NextDouble() < 0.3)
        {
            bias = DrawForm(r, batch, shape.QueryHeads, viaTensors);
            negativeInfinity = r.NextDouble() < 0.3;
        }

        float softcap = r.NextDouble() < 0.25 ? 1f + (30f * r.NextSingle()) : 0f;
        bool huge = amplitude > 10f;
        bool probabilities = !huge && (double)batch * shape.QueryHeads * lq * lk <= 2e5 && r.NextDouble() < 0.3;
        return new SweepCase
        {
            Index = index,
            Seed = seed,
            Type = type,
            Shape = shape,
            Layout = layout,
            ViaTensors = viaTensors,
            Amplitude = amplitude,
            Scale = scale,
            Causal = causal,
            Window = window,
            KeyLengths = keyLengths,
            Mask = mask,
            MaskDensity = density,
            MaskedRows = maskedRows,
            Bias = bias,
            BiasNegativeInfinity = negativeInfinity,
            Softcap = softcap,
            WithLogSumExp = r.NextDouble() < 0.8,
            WithProbabilities = probabilities,
        };
    }

    private static ScoresForm DrawForm(Random r, int batch, int heads, bool viaTensors) =>
        new(r.NextDouble() < 0.4 ? 1 : batch, r.NextDouble() < 0.4 ? 1 : heads, viaTensors && r.Next(2) == 0);

    private static T Pick<T>(Random r, T[] values) => values[r.Next(values.Length)];
}
