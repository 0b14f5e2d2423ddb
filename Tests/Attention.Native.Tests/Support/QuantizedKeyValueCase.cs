using Attention.Native.Cuda.SplitKv;
using Attention.Native.Reference;

namespace Attention.Native.Tests.Support;

/// <summary>
/// One case of attention over an 8-bit K/V cache, shared by the CPU decode kernel's and the CUDA split-KV kernels'
/// tests: random Q in <typeparamref name="T"/>, K and V of the options' layout quantised to <see cref="Format"/>
/// (<see cref="KeyValue8BitTestData"/>; int8's scales in the cache's own order, e4m3's one per (batch, KV head)), and
/// the checks of an output against the float64 reference of the dequantised values and, within the documented bound
/// (<see cref="QuantizationBound"/>), of the unquantised ones.
/// </summary>
/// <typeparam name="T">The query and output element type.</typeparam>
internal sealed class QuantizedKeyValueCase<T>
    where T : unmanaged
{
    private QuantizedKeyValueCase(
        KeyValue8BitFormat format, AttentionShape shape, AttentionOptions options, string context, TensorStrides scaleStrides,
        T[] query, KeyValue8BitTestData keys, KeyValue8BitTestData values)
    {
        Format = format;
        Shape = shape;
        Options = options;
        Context = context;
        ScaleStrides = scaleStrides;
        Query = query;
        Keys = keys;
        Values = values;
    }

    public KeyValue8BitFormat Format { get; }

    public AttentionShape Shape { get; }

    public AttentionOptions Options { get; }

    /// <summary>The case, its element type and seed, for a failure's message.</summary>
    public string Context { get; }

    /// <summary>Element strides of both scale arrays between batches, KV heads and keys (0 between keys for e4m3).</summary>
    public TensorStrides ScaleStrides { get; }

    public T[] Query { get; }

    public KeyValue8BitTestData Keys { get; }

    public KeyValue8BitTestData Values { get; }

    /// <summary>
    /// A case named <paramref name="name"/> (its seed); <paramref name="spread"/> gives rows amplitudes over two orders
    /// of magnitude and each (batch, KV head) its own power of two, so that a scale applied to the wrong key or head shows.
    /// </summary>
    public static QuantizedKeyValueCase<T> Create(
        KeyValue8BitFormat format, string name, AttentionShape shape, Func<Random, AttentionOptions> build, bool spread)
    {
        int seed = TestRandom.SeedOf($"{name}/{format}/{typeof(T).Name}");
        var random = TestRandom.Create(seed);
        var options = build(random);
        var layout = options.Layout;
        var keyStrides = TensorStrides.Contiguous(layout, shape.KeyValueHeads, shape.KeyLength, shape.HeadDim);
        var valueStrides = TensorStrides.Contiguous(layout, shape.KeyValueHeads, shape.KeyLength, shape.ValueHeadDim);
        // int8's scales in the cache's own order: [B, Hkv, L] beside a BHSD cache, [B, L, Hkv] beside a [B, L, H, D] one.
        var scaleStrides = format == KeyValue8BitFormat.Float8E4M3 ? new TensorStrides(shape.KeyValueHeads, 1, 0)
            : layout == AttentionLayout.Bshd ? new TensorStrides((long)shape.KeyLength * shape.KeyValueHeads, 1, shape.KeyValueHeads)
            : new TensorStrides((long)shape.KeyValueHeads * shape.KeyLength, shape.KeyLength, 1);
        var query = TestData.Random<T>(random, shape.QueryElementCount, 1f);
        var keys = KeyValue8BitTestData.Quantize(
            format, Data(random, shape, shape.KeyElementCount, shape.HeadDim, keyStrides, spread), shape, shape.HeadDim, keyStrides, scaleStrides);
        var values = KeyValue8BitTestData.Quantize(
            format, Data(random, shape, shape.ValueElementCount, shape.ValueHeadDim, valueStrides, spread), shape, shape.ValueHeadDim,
            valueStrides, scaleStrides);
        string context = $"case {name}, {format}, {typeof(T).Name}, {TestRandom.Describe(seed)}";
        return new(format, shape, options, context, scaleStrides, query, keys, values);
    }

    /// <summary>
    /// Asserts <paramref name="output"/> within <paramref name="tolerance"/> (relative) of the float64 reference of the
    /// dequantised values, <paramref name="logSumExp"/> within <paramref name="logSumExpTolerance"/>, and every output
    /// element within the quantisation bound of the unquantised result.
    /// </summary>
    public void AssertMatches(T[] output, float[] logSumExp, double tolerance, double logSumExpTolerance, string backend)
    {
        string context = $"{Context}, {backend}";
        var wideQuery = Array.ConvertAll(Query, x => (float)TestData.ToDouble(x));
        var dequantized = ReferenceAttention.Compute<float>(Shape, wideQuery, Keys.Dequantized, Values.Dequantized, Options);
        double error = dequantized.RelativeError<T>(output, Options.Layout);
        Assert.True(error <= tolerance, $"relative error {error:E3} against the dequantised values > {tolerance:E1} ({context})");
        AttentionChecker.AssertLogSumExp(dequantized.LogSumExp, logSumExp, logSumExpTolerance, context);

        var unquantized = ReferenceAttention.Compute<float>(Shape, wideQuery, Keys.Original, Values.Original, Options);
        var valueStrides = TensorStrides.Contiguous(Options.Layout, Shape.KeyValueHeads, Shape.KeyLength, Shape.ValueHeadDim);
        QuantizationBound.AssertWithin(
            Shape, Options, wideQuery, unquantized, output, tolerance,
            (b, kvHead) => (
                Values.MaxMagnitude(Shape, Shape.ValueHeadDim, valueStrides, b, kvHead),
                Keys.Errors[(b * Shape.KeyValueHeads) + kvHead],
                Values.Errors[(b * Shape.KeyValueHeads) + kvHead]),
            context);
    }

    private static float[] Data(Random random, AttentionShape shape, long length, int dim, TensorStrides strides, bool spread)
    {
        var data = TestData.Random<float>(random, length, 1f);
        return spread ? KeyValue8BitTestData.Spread(random, data, shape, dim, strides) : data;
    }
}
