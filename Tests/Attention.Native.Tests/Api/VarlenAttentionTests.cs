using Attention.Native.Reference;

namespace Attention.Native.Tests.Api;

/// <summary>
/// The varlen form (<see cref="AttentionBackend.ScaledDotProductAttentionVarlen{T}(VarlenAttentionShape, ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, AttentionOptions?, Span{float})"/>)
/// against <see cref="ReferenceAttention"/> run per sequence on the sequence's packed rows (a one-batch BSHD problem):
/// odd lengths (1, 7, 63, 65), empty sequences, every option a varlen call takes, on the backend a subclass creates.
/// </summary>
public abstract class VarlenAttentionTests
{
    public static TheoryData<string> AllCases
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (string name in Cases.Keys)
            {
                data.Add(name);
            }

            return data;
        }
    }

    private static Dictionary<string, VarlenCase> Cases { get; } = new VarlenCase[]
    {
        new("odd-lengths", 4, 2, 32, 32, [1, 7, 63, 65], [1, 7, 63, 65], _ => new()),
        new("chunked-prefill-bottomright", 4, 2, 24, 24, [7, 1, 65, 0, 33], [70, 1, 65, 20, 40],
            _ => new() { Causal = CausalMask.BottomRight }),
        new("causal-topleft", 2, 2, 16, 16, [63, 65, 7], [63, 65, 130], _ => new() { Causal = CausalMask.TopLeft }),
        new("window-softcap-sinks-gqa", 6, 2, 40, 24, [65, 1, 7], [100, 300, 7],
            r => new() { Window = new(20, 3), Softcap = 5f, Scale = 0.3f, Sinks = Sinks(r, 6) }),
        new("empty-sequences", 4, 4, 16, 16, [0, 5, 3, 0, 1], [4, 0, 9, 0, 0], _ => new() { Causal = CausalMask.BottomRight }),
        new("empty-sequences-sinks", 4, 1, 16, 16, [0, 5, 3, 2], [4, 0, 9, 0], r => new() { Sinks = Sinks(r, 4) }),
        new("decode-gqa", 8, 2, 64, 64, [1, 1, 1, 1], [300, 1, 77, 1000], r => new() { Sinks = Sinks(r, 8) }),
        new("decode-lq2-bottomright", 4, 1, 32, 32, [2, 3, 1], [1500, 2, 200], _ => new() { Causal = CausalMask.BottomRight }),
        new("offsets-from-row-3", 2, 1, 8, 8, [4, 9], [6, 2], _ => new() { Causal = CausalMask.BottomRight }) { FirstQueryRow = 3, FirstKeyRow = 5 },
        new("half-operands", 4, 2, 64, 64, [45, 1, 70], [67, 130, 70],
            r => new() { Causal = CausalMask.BottomRight, Sinks = Sinks(r, 4) }) { ElementType = typeof(Half) },
        new("half-decode-gqa", 8, 2, 64, 64, [1, 2, 1], [300, 129, 1], r => new() { Sinks = Sinks(r, 8) }) { ElementType = typeof(Half) },
        new("bf16-operands", 4, 2, 64, 64, [45, 17], [67, 17], _ => new() { Causal = CausalMask.TopLeft }) { ElementType = typeof(BFloat16) },
    }.ToDictionary(c => c.Name);

    [Theory]
    [MemberData(nameof(AllCases), MemberType = typeof(VarlenAttentionTests))]
    public void Matches_reference_per_sequence_via_spans(string name) => Check(Cases[name], viaTensors: false);

    [Theory]
    [MemberData(nameof(AllCases), MemberType = typeof(VarlenAttentionTests))]
    public void Matches_reference_per_sequence_via_tensors(string name) => Check(Cases[name], viaTensors: true);

    [Fact]
    public void Rejects_bad_offsets_naming_the_parameter()
    {
        using var backend = CreateBackend();
        var shape = new VarlenAttentionShape(2, 2, 5, 5, 8);
        float[] q = new float[10 * 2 * 8];
        float[] o = new float[10 * 2 * 8];
        Call(shape, [0, 3, 5], [0, 4, 2], "cuSeqlensK");  // decreasing
        Call(shape, [0, 3], [0, 4, 5], "cuSeqlensQ");  // B + 1 entries
        Call(shape, [0, 6, 7], [0, 4, 5], "cuSeqlensQ");  // longer than MaxQueryLength
        Call(shape, [-1, 3, 5], [0, 4, 5], "cuSeqlensQ");  // negative
        Call(shape, [0, 5, 10], [0, 5, 11], "cuSeqlensK");  // past max
        Call(shape with { MaxKeyLength = 6 }, [0, 5, 10], [0, 5, 11], "key");  // 11 key rows in a 10-row tensor
        Call(shape, [0, 5, 10], [0, 5, 10], "output", output: new float[(10 * 2 * 8) - 1]);
        Call(shape, [0, 5, 10], [0, 5, 10], "logSumExp", lse: new float[19]);
        Call(shape, [0, 5, 10], [0, 5, 10], "options", new() { KeyLengths = new[] { 1, 2 } });
        Call(shape, [0, 5, 10], [0, 5, 10], "options", new() { Sinks = new[] { 1f } });
        Call(shape, [0, 5, 10], [0, 5, 10], "options", new() { QueryStrides = new(0, 8, 16) });
        Assert.Throws<NotSupportedException>(() => backend.ScaledDotProductAttentionVarlen<float>(
            shape, [0, 5, 10], [0, 5, 10], q, q, q, o, new() { Mask = new(new bool[50]) }));
        Assert.Throws<ArgumentOutOfRangeException>(() => backend.ScaledDotProductAttentionVarlen<float>(
            shape, [0, 5, 10], [0, 5, 10], q, q, q, o, new() { Sinks = new[] { 1f, float.NaN } }));
        Assert.All(o, x => Assert.Equal(0f, x));

        void Call(VarlenAttentionShape s, int[] cuQ, int[] cuK, string parameter, AttentionOptions? options = null,
            float[]? output = null, float[]? lse = null)
        {
            var e = Assert.ThrowsAny<ArgumentException>(() => backend.ScaledDotProductAttentionVarlen<float>(
                s, cuQ, cuK, q, q, q, output ?? o, options, lse ?? default));
            Assert.Equal(parameter, e.ParamName);
        }
    }

    /// <summary>The backend under test (may skip the test where it is absent).</summary>
    protected abstract AttentionBackend CreateBackend();

    private static float[] Sinks(Random random, int heads) =>
        [.. Enumerable.Range(0, heads).Select(_ => (random.NextSingle() * 6f) - 2f)];

    private void Check(VarlenCase c, bool viaTensors)
    {
        if (c.ElementType == typeof(Half))
        {
            Check<Half>(c, viaTensors, 1.5e-3);
        }
        else if (c.ElementType == typeof(BFloat16))
        {
            Check<BFloat16>(c, viaTensors, 1e-2);
        }
        else
        {
            Check<float>(c, viaTensors, 1e-5);
        }
    }

    private void Check<T>(VarlenCase c, bool viaTensors, double tolerance)
        where T : unmanaged
    {
        using var backend = CreateBackend();
        int seed = TestRandom.SeedOf("varlen-" + c.Name);
        var random = TestRandom.Create(seed);
        int batch = c.QueryLengths.Length;
        int[] cuQ = Cumulative(c.QueryLengths, c.FirstQueryRow);
        int[] cuK = Cumulative(c.KeyLengths, c.FirstKeyRow);
        int totalQ = cuQ[^1];
        int totalK = cuK[^1];
        var shape = new VarlenAttentionShape(batch, c.QueryHeads, c.KeyValueHeads, c.QueryLengths.Max(), c.KeyLengths.Max(),
            c.HeadDim, c.ValueHeadDim);
        var q = TestData.Random<T>(random, (long)Math.Max(totalQ, 1) * c.QueryHeads * c.HeadDim, 1f);
        var k = TestData.Random<T>(random, (long)Math.Max(totalK, 1) * c.KeyValueHeads * c.HeadDim, 1f);
        var v = TestData.Random<T>(random, (long)Math.Max(totalK, 1) * c.KeyValueHeads * c.ValueHeadDim, 1f);
        var options = c.Options(random);
        long outputRow = (long)c.QueryHeads * c.ValueHeadDim;
        var output = TestData.Poison<T>(Math.Max(totalQ, 1) * outputRow);
        var lse = TestData.Poison<float>((long)c.QueryHeads * totalQ);
        if (viaTensors)
        {
            using var tq = backend.Upload<T>(q);
            using var tk = backend.Upload<T>(k);
            using var tv = backend.Upload<T>(v);
            using var to = backend.Upload<T>(output);
            using var tl = backend.Upload<float>(lse);
            backend.ScaledDotProductAttentionVarlen(shape, cuQ, cuK, tq, tk, tv, to, options, tl);
            to.CopyTo(output);
            tl.CopyTo(lse);
        }
        else
        {
            backend.ScaledDotProductAttentionVarlen<T>(shape, cuQ, cuK, q, k, v, output, options, lse);
        }

        string context = $"varlen case {c.Name}, {typeof(T).Name}, {backend.Description}, {TestRandom.Describe(seed)}";
        for (int b = 0; b < batch; b++)
        {
            int lq = c.QueryLengths[b];
            int lk = c.KeyLengths[b];
            for (long x = cuQ[b] * outputRow; x < cuQ[b + 1] * outputRow; x++)
            {
                Assert.False(double.IsNaN(TestData.ToDouble(output[x])), $"NaN in sequence {b} ({context})");
            }

            if (lq == 0)
            {
                continue;
            }

            if (lk == 0)
            {
                // No key: O = 0, lse = the sink (−∞ without one).
                for (long x = cuQ[b] * outputRow; x < cuQ[b + 1] * outputRow; x++)
                {
                    Assert.True(TestData.ToDouble(output[x]) == 0, $"sequence {b} without keys: O is not 0 ({context})");
                }

                for (int h = 0; h < c.QueryHeads; h++)
                {
                    float expected = options.Sinks.IsEmpty ? float.NegativeInfinity : options.Sinks.Span[h];
                    for (int i = 0; i < lq; i++)
                    {
                        Assert.Equal(expected, lse[((long)h * totalQ) + cuQ[b] + i]);
                    }
                }

                continue;
            }

            var sequence = new AttentionShape(1, c.QueryHeads, c.KeyValueHeads, lq, lk, c.HeadDim, c.ValueHeadDim);
            var reference = ReferenceAttention.Compute<T>(sequence,
                q.AsSpan((int)(cuQ[b] * (long)c.QueryHeads * c.HeadDim)),
                k.AsSpan((int)(cuK[b] * (long)c.KeyValueHeads * c.HeadDim)),
                v.AsSpan((int)(cuK[b] * (long)c.KeyValueHeads * c.ValueHeadDim)),
                options with { Layout = AttentionLayout.Bshd });
            double error = reference.RelativeError<T>(output.AsSpan((int)(cuQ[b] * outputRow)), AttentionLayout.Bshd);
            Assert.True(error <= tolerance, $"sequence {b}: relative error {error:E3} > {tolerance:E1} ({context})");
            // The call's lse is [H, total Lq]: the sequence's rows of each head, as the reference's [H, Lq].
            var sequenceLse = new float[c.QueryHeads * lq];
            for (int h = 0; h < c.QueryHeads; h++)
            {
                Array.Copy(lse, ((long)h * totalQ) + cuQ[b], sequenceLse, (long)h * lq, lq);
            }

            AttentionChecker.AssertLogSumExp(reference.LogSumExp, sequenceLse, 2e-5, $"sequence {b}, {context}");
        }
    }

    private static int[] Cumulative(int[] lengths, int first)
    {
        int[] offsets = new int[lengths.Length + 1];
        offsets[0] = first;
        for (int b = 0; b < lengths.Length; b++)
        {
            offsets[b + 1] = offsets[b] + lengths[b];
        }

        return offsets;
    }

    private sealed record VarlenCase(
        string Name, int QueryHeads, int KeyValueHeads, int HeadDim, int ValueHeadDim, int[] QueryLengths, int[] KeyLengths,
        Func<Random, AttentionOptions> Options)
    {
        public Type ElementType { get; init; } = typeof(float);

        public int FirstQueryRow { get; init; }

        public int FirstKeyRow { get; init; }
    }
}
