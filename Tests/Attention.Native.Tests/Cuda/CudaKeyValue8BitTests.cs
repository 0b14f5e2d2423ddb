using Attention.Native.Cuda;
using Attention.Native.Cuda.SplitKv;
using Attention.Native.Reference;

namespace Attention.Native.Tests.Cuda;

/// <summary>
/// The split-KV kernels over 8-bit K/V (<see cref="KeyValue8BitAttention"/>): int8 with per-key scales and fp8 e4m3
/// with per-head scales, Half and BFloat16 queries, against the float64 reference of the dequantised values (the
/// 16-bit path's own tolerance) and of the unquantised ones within the documented bound (docs/cuda-backend.md):
/// per output element <c>(e^{2Δ} − 1)·max|V| + ε_v</c> with <c>Δ = scale·‖q‖₁·ε_k</c>, ε the largest element error
/// of the head's K or V. Key counts 1, 7, 65 and 1000, GQA, one and three queries (causal), BSHD caches with masks,
/// biases, key lengths, a window, a soft cap and sinks, paged caches (token- and head-major pages), and what throws.
/// Rows and heads of different magnitudes, so that a scale read for the wrong key or head fails. Outputs start poisoned.
/// </summary>
[Trait("Device", "Cuda")]
public sealed class CudaKeyValue8BitTests
{
    public static TheoryData<string, string, int> Shapes()
    {
        var data = new TheoryData<string, string, int>();
        foreach (string format in new[] { "int8", "e4m3" })
        {
            foreach (string type in new[] { "half", "bf16" })
            {
                foreach (int keys in new[] { 1, 7, 65, 1000 })
                {
                    data.Add(format, type, keys);
                }
            }
        }

        return data;
    }

    /// <summary>GQA 8/2, D = Dv = 64; one query, and three with a bottom-right causal mask (12 rows a KV head: two
    /// row chunks).</summary>
    [CudaTheory]
    [MemberData(nameof(Shapes))]
    public void Contiguous_cache_matches_reference(string format, string type, int keys)
    {
        Check(format, type, $"cuda-kv8-k{keys}-q1", new AttentionShape(2, 8, 2, 1, keys, 64, 64), _ => new());
        Check(format, type, $"cuda-kv8-k{keys}-q3", new AttentionShape(1, 8, 2, 3, keys, 64, 64),
            _ => new() { Causal = CausalMask.BottomRight });
    }

    /// <summary>A [B, L, H, D] cache (scales [B, L, Hkv]) with odd head dims (plain copies: rows not 16-byte aligned),
    /// a mask, a bias, key lengths, a window, a soft cap and sinks.</summary>
    [CudaTheory]
    [InlineData("int8", "half")]
    [InlineData("int8", "bf16")]
    [InlineData("e4m3", "half")]
    [InlineData("e4m3", "bf16")]
    public void Options_match_reference(string format, string type)
    {
        var shape = new AttentionShape(2, 6, 3, 2, 530, 40, 24);
        Check(format, type, "cuda-kv8-options", shape, r => new()
        {
            Layout = AttentionLayout.Bshd,
            KeyLengths = new[] { 530, 301 },
            Mask = new(TestData.RandomMask(r, 2L * 2 * 530, 0.85), 2, 1),
            Bias = new(TestData.RandomBias(r, 6L * 2 * 530), 1, 6),
            Window = new(257, 0),
            Softcap = 5f,
            Sinks = TestData.Random<float>(r, 6, 2f),
        });
    }

    [CudaTheory]
    [InlineData("int8", "half", false)]
    [InlineData("int8", "bf16", true)]
    [InlineData("e4m3", "half", true)]
    [InlineData("e4m3", "bf16", false)]
    public void Paged_cache_matches_reference(string format, string type, bool headMajor)
    {
        if (type == "half")
        {
            CheckPaged<Half>(ParseFormat(format), headMajor, 1.5e-3);
        }
        else
        {
            CheckPaged<BFloat16>(ParseFormat(format), headMajor, 1e-2);
        }
    }

    /// <summary>The e4m3 NaN codes (which the layers' quantiser writes for a NaN element) read as NaN, not ±480.</summary>
    [CudaTheory]
    [InlineData("half")]
    [InlineData("bf16")]
    public void Nan_codes_reach_the_output_as_nan(string type)
    {
        if (type == "half")
        {
            CheckNan<Half>();
        }
        else
        {
            CheckNan<BFloat16>();
        }
    }

    [CudaFact]
    public void Float_queries_are_not_supported()
    {
        using var backend = new CudaBackend();
        var shape = new AttentionShape(1, 2, 1, 1, 16, 16, 16);
        using var kv = Operands.Zeros(backend, shape, KeyValue8BitFormat.Int8);
        using var query = new CudaTensor<float>(backend, shape.QueryElementCount);
        using var output = new CudaTensor<float>(backend, shape.OutputElementCount);
        var error = Assert.Throws<NotSupportedException>(() => KeyValue8BitAttention.Run(backend, shape, query, kv.Cache, output));
        Assert.Contains("Half or BFloat16 queries", error.Message, StringComparison.Ordinal);
    }

    [CudaFact]
    public void More_queries_than_split_kv_takes_are_not_supported_and_nothing_is_written()
    {
        using var backend = new CudaBackend();
        var shape = new AttentionShape(1, 2, 1, AttentionSplitKvGeometry.MaxQueryLength + 1, 16, 16, 16);
        using var kv = Operands.Zeros(backend, shape, KeyValue8BitFormat.Float8E4M3);
        using var query = new CudaTensor<Half>(backend, shape.QueryElementCount);
        using var output = Poisoned<Half>(backend, shape.OutputElementCount);
        var error = Assert.Throws<NotSupportedException>(() => KeyValue8BitAttention.Run(backend, shape, query, kv.Cache, output));
        Assert.Contains($"shape.QueryLength = {shape.QueryLength}", error.Message, StringComparison.Ordinal);
        Assert.All(output.ToArray(), x => Assert.True(Half.IsNaN(x)));
    }

    [CudaTheory]
    [InlineData("simt")]
    [InlineData("mma")]
    [InlineData("hopper")]
    public void Forced_kernels_that_cannot_read_8_bit_caches_throw_naming_them(string forced)
    {
        using var backend = new CudaBackend(
            new CudaBackendOptions { Kernel = CudaKernelSelector.ParseForced(forced) }, "forced by the test");
        var shape = new AttentionShape(1, 2, 1, 1, 16, 16, 16);
        using var kv = Operands.Zeros(backend, shape, KeyValue8BitFormat.Int8);
        using var query = new CudaTensor<BFloat16>(backend, shape.QueryElementCount);
        using var output = new CudaTensor<BFloat16>(backend, shape.OutputElementCount);
        var error = Assert.Throws<NotSupportedException>(() => KeyValue8BitAttention.Run(backend, shape, query, kv.Cache, output));
        Assert.Contains($"={forced.ToUpperInvariant()} cannot read an 8-bit key/value cache", error.Message, StringComparison.Ordinal);
    }

    [CudaFact]
    public void Short_scales_and_overlapping_outputs_are_rejected()
    {
        using var backend = new CudaBackend();
        var shape = new AttentionShape(2, 2, 1, 1, 16, 16, 16);
        using var kv = Operands.Zeros(backend, shape, KeyValue8BitFormat.Int8);
        using var query = new CudaTensor<Half>(backend, shape.QueryElementCount);
        using var output = new CudaTensor<Half>(backend, shape.OutputElementCount);
        using var shortScales = new CudaTensor<float>(backend, 31);
        var error = Assert.Throws<ArgumentException>(() => KeyValue8BitAttention.Run(
            backend, shape, query, kv.Cache with { ValueScales = shortScales }, output));
        Assert.Equal("kv.ValueScales", error.ParamName);
        Assert.Equal("logSumExp", Assert.Throws<ArgumentException>(() => KeyValue8BitAttention.Run(
            backend, shape, query, kv.Cache, output, logSumExp: kv.Cache.KeyScales)).ParamName);

        // e4m3 needs one scale per (batch, KV head) only.
        using var headScales = new CudaTensor<float>(backend, 2);
        using var oneScale = new CudaTensor<float>(backend, 1);
        Assert.Equal("kv.KeyScales", Assert.Throws<ArgumentException>(() => KeyValue8BitAttention.Run(
            backend, shape, query, kv.Cache with
            {
                Format = KeyValue8BitFormat.Float8E4M3,
                KeyScales = oneScale,
                ValueScales = headScales,
                ScaleStrides = new(1, 1, 0),
            }, output)).ParamName);
    }

    private static void CheckNan<T>()
        where T : unmanaged
    {
        CudaTestEnvironment.SkipUnlessAvailable();
        using var backend = new CudaBackend();
        var shape = new AttentionShape(1, 1, 1, 1, 8, 16, 16);
        var keys = new byte[shape.KeyElementCount];
        var values = new byte[shape.ValueElementCount];
        values[(3 * 16) + 5] = 0x7F;
        values[(6 * 16) + 9] = 0xFF;
        keys[(2 * 16) + 1] = 0x38;
        using var kv = new Operands(backend, KeyValue8BitFormat.Float8E4M3, keys, values, [1f], [1f], new(1, 1, 0));
        using var q = Uploaded(backend, TestData.Random<T>(TestRandom.Create(5), shape.QueryElementCount, 1f));
        using var o = Poisoned<T>(backend, shape.OutputElementCount);
        KeyValue8BitAttention.Run(backend, shape, q, kv.Cache, o);
        var output = Widened(o.ToArray());
        for (int x = 0; x < 16; x++)
        {
            Assert.True(float.IsNaN(output[x]) == (x is 5 or 9), $"element {x}: {output[x]}");
        }

        keys[(2 * 16) + 1] = 0xFF;
        using var nanKey = new Operands(backend, KeyValue8BitFormat.Float8E4M3, keys, new byte[values.Length], [1f], [1f], new(1, 1, 0));
        KeyValue8BitAttention.Run(backend, shape, q, nanKey.Cache, o);
        Assert.All(Widened(o.ToArray()), x => Assert.True(float.IsNaN(x)));
    }

    private static float[] Widened<T>(T[] values)
        where T : unmanaged => Array.ConvertAll(values, v => (float)TestData.ToDouble(v));

    private static KeyValue8BitFormat ParseFormat(string format) =>
        format == "int8" ? KeyValue8BitFormat.Int8 : KeyValue8BitFormat.Float8E4M3;

    private static CudaTensor<T> Poisoned<T>(CudaBackend backend, long length)
        where T : unmanaged
    {
        var tensor = new CudaTensor<T>(backend, length);
        tensor.CopyFrom(TestData.Poison<T>(length));
        return tensor;
    }

    private static CudaTensor<T> Uploaded<T>(CudaBackend backend, T[] data)
        where T : unmanaged
    {
        var tensor = new CudaTensor<T>(backend, Math.Max(data.Length, 1));
        tensor.CopyFrom(data);
        return tensor;
    }

    private static void Check(string format, string type, string name, AttentionShape shape, Func<Random, AttentionOptions> build)
    {
        if (type == "half")
        {
            Check<Half>(ParseFormat(format), name, shape, build, 1.5e-3);
        }
        else
        {
            Check<BFloat16>(ParseFormat(format), name, shape, build, 1e-2);
        }
    }

    private static void Check<T>(
        KeyValue8BitFormat format, string name, AttentionShape shape, Func<Random, AttentionOptions> build, double tolerance)
        where T : unmanaged
    {
        CudaTestEnvironment.SkipUnlessAvailable();
        using var backend = new CudaBackend();
        var data = QuantizedKeyValueCase<T>.Create(format, name, shape, build, spread: true);
        using var q = Uploaded(backend, data.Query);
        using var o = Poisoned<T>(backend, shape.OutputElementCount);
        using var lse = Poisoned<float>(backend, shape.LogSumExpElementCount);
        using var kv = new Operands(
            backend, format, data.Keys.Stored, data.Values.Stored, data.Keys.Scales, data.Values.Scales, data.ScaleStrides);
        KeyValue8BitAttention.Run(backend, shape, q, kv.Cache, o, data.Options, lse);
        data.AssertMatches(o.ToArray(), lse.ToArray(), tolerance, 1e-4, backend.Description);
    }

    /// <summary>Paged GQA 8/2 decode over sequences of 1000, 65, 7 and 1 keys in pages of 16 (the stages of 8 keys
    /// never straddle one), pages out of order; int8's scales paged beside the rows, e4m3's per (sequence, KV head).</summary>
    private static void CheckPaged<T>(KeyValue8BitFormat format, bool headMajor, double tolerance)
        where T : unmanaged
    {
        CudaTestEnvironment.SkipUnlessAvailable();
        using var backend = new CudaBackend();
        const int pageSize = 16;
        var shape = new AttentionShape(4, 8, 2, 1, 1000, 64, 64);
        int[] lengths = [1000, 65, 7, 1];
        int seed = TestRandom.SeedOf($"cuda-kv8-paged/{format}/{headMajor}/{typeof(T).Name}");
        var random = TestRandom.Create(seed);
        string context = $"paged {format}, head-major {headMajor}, {typeof(T).Name}, {TestRandom.Describe(seed)}";
        // The rows as [B, Lk, Hkv, D], quantised there, then scattered into pages with their scales.
        var layoutData = PagedTestData<float>.Create(random, shape, pageSize, lengths, sharedPages: 0, headMajor);
        var keyStrides = PagedTestData<float>.KeyStrides(shape);
        var valueStrides = PagedTestData<float>.ValueStrides(shape);
        KeyValue8BitTestData.Spread(random, layoutData.Key, shape, shape.HeadDim, keyStrides);
        KeyValue8BitTestData.Spread(random, layoutData.Value, shape, shape.ValueHeadDim, valueStrides);
        var rowScales = new TensorStrides((long)shape.KeyLength * shape.KeyValueHeads, 1, shape.KeyValueHeads);
        var scaleStrides = format == KeyValue8BitFormat.Int8 ? rowScales : new TensorStrides(shape.KeyValueHeads, 1, 0);
        var keys = KeyValue8BitTestData.Quantize(format, layoutData.Key, shape, shape.HeadDim, keyStrides, scaleStrides);
        var values = KeyValue8BitTestData.Quantize(format, layoutData.Value, shape, shape.ValueHeadDim, valueStrides, scaleStrides);
        var pages = layoutData.Layout;
        int pageCount = layoutData.KeyPages.Length / (pageSize * shape.KeyValueHeads * shape.HeadDim);
        var keyPages = new byte[layoutData.KeyPages.Length];
        var valuePages = new byte[layoutData.ValuePages.Length];
        var keyPageScales = format == KeyValue8BitFormat.Int8 ? Enumerable.Repeat(float.NaN, pageCount * pageSize * shape.KeyValueHeads).ToArray() : keys.Scales;
        var valuePageScales = format == KeyValue8BitFormat.Int8 ? (float[])keyPageScales.Clone() : values.Scales;
        for (int b = 0; b < shape.Batch; b++)
        {
            for (int j = 0; j < lengths[b]; j++)
            {
                long page = pages.BlockTable.Span[(b * pages.PagesPerSequence) + (j / pageSize)];
                for (int h = 0; h < shape.KeyValueHeads; h++)
                {
                    long place = (page * pageSize * shape.KeyValueHeads)
                        + (headMajor ? ((long)h * pageSize) + (j % pageSize) : ((long)(j % pageSize) * shape.KeyValueHeads) + h);
                    long row = (b * keyStrides.Batch) + (j * keyStrides.Sequence) + (h * keyStrides.Head);
                    Array.Copy(keys.Stored, row, keyPages, place * shape.HeadDim, shape.HeadDim);
                    Array.Copy(values.Stored, row, valuePages, place * shape.ValueHeadDim, shape.ValueHeadDim);
                    if (format == KeyValue8BitFormat.Int8)
                    {
                        long scale = (b * rowScales.Batch) + (j * rowScales.Sequence) + (h * rowScales.Head);
                        keyPageScales[place] = keys.Scales[scale];
                        valuePageScales[place] = values.Scales[scale];
                    }
                }
            }
        }

        var query = TestData.Random<T>(random, shape.QueryElementCount, 1f);
        var options = new AttentionOptions { Causal = CausalMask.BottomRight };
        using var q = Uploaded(backend, query);
        using var o = Poisoned<T>(backend, shape.OutputElementCount);
        using var kv = new Operands(backend, format, keyPages, valuePages, keyPageScales, valuePageScales, scaleStrides);
        KeyValue8BitAttention.RunPaged(backend, shape, q, kv.Cache, pages, o, options);
        var output = o.ToArray();

        var wideQuery = Array.ConvertAll(query, x => (float)TestData.ToDouble(x));
        var expected = ReferenceAttention.Compute<float>(shape, wideQuery, keys.Dequantized, values.Dequantized, options with
        {
            KeyLengths = lengths,
            KeyStrides = keyStrides,
            ValueStrides = valueStrides,
        });
        double error = expected.RelativeError<T>(output);
        Assert.True(error <= tolerance, $"relative error {error:E3} against the dequantised values > {tolerance:E1} ({context})");
    }

    /// <summary>An 8-bit cache's device operands, freed together.</summary>
    private sealed class Operands : IDisposable
    {
        private readonly CudaTensor<byte> key;
        private readonly CudaTensor<byte> value;
        private readonly CudaTensor<float> keyScales;
        private readonly CudaTensor<float> valueScales;

        public Operands(
            CudaBackend backend, KeyValue8BitFormat format, byte[] key, byte[] value, float[] keyScales, float[] valueScales,
            TensorStrides scaleStrides)
        {
            this.key = Uploaded(backend, key);
            this.value = Uploaded(backend, value);
            this.keyScales = Uploaded(backend, keyScales);
            this.valueScales = Uploaded(backend, valueScales);
            Cache = new DeviceKeyValue8Bit(format, this.key, this.value, this.keyScales, this.valueScales, scaleStrides);
        }

        public DeviceKeyValue8Bit Cache { get; }

        /// <summary>Zero bytes and scales of a contiguous BHSD cache of <paramref name="shape"/>.</summary>
        public static Operands Zeros(CudaBackend backend, AttentionShape shape, KeyValue8BitFormat format)
        {
            int scales = shape.Batch * shape.KeyValueHeads * shape.KeyLength;
            return new Operands(backend, format, new byte[shape.KeyElementCount], new byte[shape.ValueElementCount],
                new float[scales], new float[scales], new(shape.KeyValueHeads * shape.KeyLength, shape.KeyLength, 1));
        }

        public void Dispose()
        {
            key.Dispose();
            value.Dispose();
            keyScales.Dispose();
            valueScales.Dispose();
        }
    }
}
