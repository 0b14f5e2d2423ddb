using Attention.Native.Cpu;
using System.Runtime.InteropServices;
using Attention.Native.Cpu.Decode;
using Attention.Native.Cuda.SplitKv;
using Attention.Native.Reference;

namespace Attention.Native.Tests.Cpu;

/// <summary>
/// The CPU decode kernel over an 8-bit key/value cache (<see cref="ByteCacheAttention"/>), converting each block in
/// registers: int8 with a scale per (batch, KV head, key), fp8 e4m3 with one per (batch, KV head) at a zero key stride
/// (<see cref="QuantizedKeyValueCase{T}"/>). Against the float64 reference of the dequantised values (the float bound:
/// only the kernel's rounding), and against the unquantised result within the documented bound (docs/layers.md): per
/// output element, <c>(e^{2Δ} − 1)·max|V| + ε_v</c> with <c>Δ = scale·‖q‖₁·ε_k</c>, ε the largest element error of the
/// head's K or V. Key counts 1, 7, 65 and around the block edges (256) to 1000, query groups with and without four-row
/// tiles, two queries, BHSD and [B, L, H, D] caches (heads side by side), masks, biases, key lengths, a soft cap and a
/// window, split keys over two threads, float, Half and BFloat16 queries, each ISA variant. e4m3's rows and heads have
/// different magnitudes, so that a scale read for the wrong head fails.
/// </summary>
[Trait("Isa", "Rerun")]
public sealed class CpuByteCacheAttentionTests
{
    public static TheoryData<string> Formats() => new("int8", "e4m3");

    public static TheoryData<string, int, int, int> Shapes()
    {
        var data = new TheoryData<string, int, int, int>();
        foreach (string format in new[] { "int8", "e4m3" })
        {
            foreach (int keys in new[] { 1, 7, 65, 255, 256, 257, 513, 1000 })
            {
                foreach ((int group, int queries) in new[] { (1, 1), (4, 1), (5, 1), (3, 2) })
                {
                    data.Add(format, keys, group, queries);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Contiguous_cache_matches_reference(string format, int keys, int group, int queries)
    {
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 2 });
        Check<float>(backend, format, $"kv8-k{keys}-g{group}-q{queries}", new AttentionShape(2, 2 * group, 2, queries, keys, 40, 24), _ => new());
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Bshd_cache_matches_reference(string format, int keys, int group, int queries)
    {
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 1 });
        Check<float>(
            backend, format, $"kv8-bshd-k{keys}-g{group}-q{queries}", new AttentionShape(1, 2 * group, 2, queries, keys, 33, 130),
            _ => new() { Layout = AttentionLayout.Bshd, Causal = CausalMask.BottomRight });
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Split_keys_with_masks_bias_and_key_lengths_match_reference(string format)
    {
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 2 });
        Check<float>(backend, format, "kv8-split-masked", new AttentionShape(2, 8, 4, 2, 1300, 48, 40), r => new()
        {
            Layout = AttentionLayout.Bshd,
            Causal = CausalMask.BottomRight,
            KeyLengths = new[] { 1300, 777 },
            Mask = new(TestData.RandomMask(r, 2L * 2 * 1300, 0.85), 2, 1),
            Bias = new(TestData.RandomBias(r, 8L * 2 * 1300), 1, 8),
        });
    }

    public static TheoryData<string, CpuKernelVariant> Variants()
    {
        var data = new TheoryData<string, CpuKernelVariant>();
        foreach (string format in new[] { "int8", "e4m3" })
        {
            foreach (var variant in new[] { CpuKernelVariant.Vector512, CpuKernelVariant.Vector256, CpuKernelVariant.Vector128, CpuKernelVariant.Scalar })
            {
                data.Add(format, variant);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Each_variant_matches_reference(string format, CpuKernelVariant variant)
    {
        using var backend = new CpuBackend(new CpuBackendOptions { Variant = variant, ThreadCount = 1 });
        Check<float>(backend, format, "kv8-variant", new AttentionShape(1, 10, 2, 1, 201, 72, 72), r => new()
        {
            KeyLengths = new[] { 190 },
            Mask = new(TestData.RandomMask(r, 201, 0.8), 1, 1),
            Softcap = 4f,
            Window = new(150, 0),
        });
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Half_queries_match_reference(string format)
    {
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 2 });
        Check<Half>(backend, format, "kv8-half", new AttentionShape(1, 8, 2, 1, 700, 64, 64), _ => new());
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void BFloat16_queries_match_reference(string format)
    {
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 1 });
        Check<BFloat16>(backend, format, "kv8-bf16", new AttentionShape(1, 4, 4, 1, 300, 48, 48),
            _ => new() { Layout = AttentionLayout.Bshd });
    }

    [Fact]
    public unsafe void Quantizer_keeps_each_element_within_half_a_step()
    {
        var random = TestRandom.Create(11);
        var row = TestData.Random<float>(random, 100, 3f);
        row[17] = -7.5f;
        var stored = new sbyte[row.Length];
        float scale;
        fixed (float* source = row)
        fixed (sbyte* target = stored)
        {
            scale = Int8Quantizer.QuantizeRow(source, target, row.Length);
        }

        Assert.Equal(7.5f / 127f, scale);
        Assert.Equal(-127, stored[17]);
        for (int i = 0; i < row.Length; i++)
        {
            Assert.InRange(stored[i], -127, 127);
            Assert.True(Math.Abs(row[i] - ((double)stored[i] * scale)) <= (scale / 2.0) * (1 + 1e-6), $"element {i}");
        }
    }

    [Fact]
    public unsafe void Quantizer_gives_zero_rows_scale_zero_and_non_finite_rows_scale_nan()
    {
        var stored = new sbyte[3];
        var row = new float[] { 0, -0f, 0 };
        fixed (sbyte* target = stored)
        fixed (float* source = row)
        {
            Assert.Equal(0f, Int8Quantizer.QuantizeRow(source, target, 3));
            Assert.Equal(new sbyte[3], stored);
            foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
            {
                row[0] = 1;
                row[1] = bad;
                row[2] = -2;
                Assert.True(float.IsNaN(Int8Quantizer.QuantizeRow(source, target, 3)), $"{bad}");
            }
        }
    }

    [Fact]
    public void Nan_codes_reach_the_output_as_nan()
    {
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 1 });
        var shape = new AttentionShape(1, 1, 1, 1, 3, 8, 8);
        var key = new sbyte[shape.KeyElementCount];
        var value = new sbyte[shape.ValueElementCount];
        value[8 + 2] = 0x7F;
        var output = TestData.Poison<float>(shape.OutputElementCount);
        ByteCacheAttention.Run<float>(backend, shape, new float[shape.QueryElementCount], new ByteKeyValueSpans
        {
            Format = KeyValue8BitFormat.Float8E4M3,
            Key = key,
            Value = value,
            KeyScales = new[] { 1f },
            ValueScales = new[] { 1f },
            ScaleStrides = new(1, 1, 0),
        }, output);
        Assert.True(float.IsNaN(output[2]), $"{output[2]}");
        Assert.Equal(0f, output[0]);
    }

    [Fact]
    public void More_queries_than_the_decode_kernel_takes_are_not_supported()
    {
        using var backend = new CpuBackend();
        var shape = new AttentionShape(1, 2, 1, 5, 16, 8, 8);
        var error = Assert.Throws<NotSupportedException>(() => ByteCacheAttention.Run<float>(
            backend, shape, new float[shape.QueryElementCount], Spans(shape, scales: 16), new float[shape.OutputElementCount]));
        Assert.Contains("8-bit key/value cache", error.Message, StringComparison.Ordinal);
        Assert.Contains("Lq = 5", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Short_scales_are_rejected()
    {
        using var backend = new CpuBackend();
        var shape = new AttentionShape(1, 2, 1, 1, 16, 8, 8);
        var error = Assert.Throws<ArgumentException>(() => ByteCacheAttention.Run<float>(
            backend, shape, new float[shape.QueryElementCount], Spans(shape, scales: 15), new float[shape.OutputElementCount]));
        Assert.Equal("keyScales", error.ParamName);
    }

    [Fact]
    public void An_undefined_format_is_refused_before_the_output_is_written()
    {
        using var backend = new CpuBackend();
        var shape = new AttentionShape(1, 2, 1, 1, 16, 8, 8);
        var output = TestData.Poison<float>(shape.OutputElementCount);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ByteCacheAttention.Run<float>(
            backend, shape, new float[shape.QueryElementCount], Spans(shape, scales: 16) with { Format = (KeyValue8BitFormat)3 }, output));
        Assert.Equal("kv", error.ParamName);
        Assert.All(output, x => Assert.True(float.IsNaN(x)));
    }

    private static ByteKeyValueSpans Spans(AttentionShape shape, int scales) => new()
    {
        Key = new sbyte[shape.KeyElementCount],
        Value = new sbyte[shape.ValueElementCount],
        KeyScales = new float[scales],
        ValueScales = new float[16],
        ScaleStrides = new(shape.KeyValueHeads * shape.KeyLength, shape.KeyLength, 1),
    };

    /// <summary>
    /// A case of <paramref name="format"/> (named "int8" or "e4m3"); e4m3's data spread over magnitudes row to row and
    /// head to head (its one scale a head is then what a wrong-head read shows).
    /// </summary>
    private static void Check<T>(CpuBackend backend, string format, string name, AttentionShape shape, Func<Random, AttentionOptions> build)
        where T : unmanaged
    {
        bool e4m3 = format == "e4m3";
        Check<T>(backend, e4m3 ? KeyValue8BitFormat.Float8E4M3 : KeyValue8BitFormat.Int8, name, shape, build, spread: e4m3);
    }

    /// <summary>
    /// Random Q (in <typeparamref name="T"/>), K and V quantised to <paramref name="format"/>
    /// (<see cref="QuantizedKeyValueCase{T}"/>), run through <see cref="ByteCacheAttention"/>; every output checked
    /// both ways, and int8's within 1e-2 of the unquantised result as a whole.
    /// </summary>
    private static void Check<T>(
        CpuBackend backend, KeyValue8BitFormat format, string name, AttentionShape shape, Func<Random, AttentionOptions> build, bool spread)
        where T : unmanaged
    {
        var data = QuantizedKeyValueCase<T>.Create(format, name, shape, build, spread);
        var output = TestData.Poison<T>(shape.OutputElementCount);
        var logSumExp = TestData.Poison<float>(shape.LogSumExpElementCount);
        ByteCacheAttention.Run<T>(backend, shape, data.Query, new ByteKeyValueSpans
        {
            Format = format,
            Key = MemoryMarshal.Cast<byte, sbyte>(data.Keys.Stored),
            Value = MemoryMarshal.Cast<byte, sbyte>(data.Values.Stored),
            KeyScales = data.Keys.Scales,
            ValueScales = data.Values.Scales,
            ScaleStrides = data.ScaleStrides,
        }, output, data.Options, logSumExp);

        double tolerance = typeof(T) == typeof(Half) ? 1.5e-3 : typeof(T) == typeof(BFloat16) ? 1e-2 : 1e-5;
        data.AssertMatches(output, logSumExp, tolerance, 2e-5, backend.Description);
        if (format == KeyValue8BitFormat.Int8)
        {
            var wideQuery = Array.ConvertAll(data.Query, q => (float)TestData.ToDouble(q));
            var unquantized = ReferenceAttention.Compute<float>(shape, wideQuery, data.Keys.Original, data.Values.Original, data.Options);
            double relative = unquantized.RelativeError<T>(output, data.Options.Layout);
            Assert.True(relative <= 1e-2, $"relative error {relative:E3} against the unquantised result > 1e-2 ({data.Context})");
        }
    }
}
