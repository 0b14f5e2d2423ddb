using Attention.Native.Layers;

namespace Attention.Native.Tests.Layers;

/// <summary>A layer with fresh random PyTorch-layout weights, random inputs, and the checks against <see cref="LayerReference"/>.</summary>
public sealed class LayerFixture
{
    public LayerFixture(MultiHeadAttentionOptions options, int seed)
    {
        Options = options;
        Random = TestRandom.Create(seed);
        int e = options.ModelDim, h = options.NumHeads, hkv = options.NumKeyValueHeads ?? h;
        int dk = options.KeyDim ?? e / h, dv = options.ValueDim ?? dk;
        int kdim = options.KeyInputDim ?? e, vdim = options.ValueInputDim ?? e;
        // Weights scaled by 1/√fan-in keep activations near 1, as trained layers are.
        Weights = new PyTorchAttentionWeights(
            Values(h * dk * e, e),
            Values(hkv * dk * kdim, kdim),
            Values(hkv * dv * vdim, vdim),
            options.UseBias ? Values((h * dk) + (hkv * dk) + (hkv * dv), 4) : [],
            Values(e * h * dv, h * dv),
            options.UseBias ? Values(e, 4) : []);
    }

    private LayerFixture(MultiHeadAttentionOptions options, Random random, PyTorchAttentionWeights weights)
    {
        Options = options;
        Random = random;
        Weights = weights;
    }

    public MultiHeadAttentionOptions Options { get; }

    public Random Random { get; }

    public PyTorchAttentionWeights Weights { get; }

    public int ModelDim => Options.ModelDim;

    public int KeyInputDim => Options.KeyInputDim ?? Options.ModelDim;

    public int ValueInputDim => Options.ValueInputDim ?? Options.ModelDim;

    public float[] Values(int length, int fanIn) => TestData.Random<float>(Random, length, 1f / MathF.Sqrt(fanIn));

    public float[] Input(int batch, int length, int features) => TestData.Random<float>(Random, (long)batch * length * features, 1f);

    public MultiHeadAttention<float> Create(AttentionBackend backend) => Create<float>(backend);

    public MultiHeadAttention<T> Create<T>(AttentionBackend backend)
        where T : unmanaged
    {
        var layer = new MultiHeadAttention<T>(backend, Options);
        layer.LoadPyTorchWeights(
            Weights.QProjWeight, Weights.KProjWeight, Weights.VProjWeight, Weights.InProjBias, Weights.OutProjWeight, Weights.OutProjBias);
        return layer;
    }

    /// <summary>The same fixture with every weight rounded to <typeparamref name="T"/> (what a layer of T holds), sharing the random source.</summary>
    public LayerFixture RoundedTo<T>()
        where T : unmanaged
    {
        var w = Weights;
        return new LayerFixture(Options, Random, new PyTorchAttentionWeights(
            Rounded<T>(w.QProjWeight), Rounded<T>(w.KProjWeight), Rounded<T>(w.VProjWeight), Rounded<T>(w.InProjBias),
            Rounded<T>(w.OutProjWeight), Rounded<T>(w.OutProjBias)));
    }

    /// <summary><paramref name="values"/> rounded to <typeparamref name="T"/> and widened back (exactly representable in T).</summary>
    public static float[] Rounded<T>(float[] values)
        where T : unmanaged =>
        Array.ConvertAll(values, v => (float)TestData.ToDouble(TestData.FromSingle<T>(v)));

    /// <summary><paramref name="values"/> as <typeparamref name="T"/> (rounded to nearest).</summary>
    public static T[] Narrow<T>(float[] values)
        where T : unmanaged =>
        Array.ConvertAll(values, TestData.FromSingle<T>);

    /// <summary><paramref name="values"/> widened to float (exact).</summary>
    public static float[] Widen<T>(T[] values)
        where T : unmanaged =>
        Array.ConvertAll(values, v => (float)TestData.ToDouble(v));

    /// <summary>
    /// Decoding steps of <paramref name="steps"/> tokens each over <paramref name="cache"/>, taking the rows of
    /// <paramref name="x"/> (<c>[B, total, E]</c>) in turn; each step's output (poisoned first) within
    /// <paramref name="tolerance"/> of the same rows of <paramref name="expected"/>, and the cache's length counted on.
    /// </summary>
    public static void AssertSteps<T>(
        AttentionBackend backend, MultiHeadAttention<T> layer, KeyValueCache<T> cache, float[] x, double[] expected, int total,
        IEnumerable<int> steps, double tolerance)
        where T : unmanaged
    {
        int batch = cache.Batch, e = layer.ModelDim, done = 0;
        foreach (int n in steps)
        {
            using var input = backend.Upload<T>(Narrow<T>(KeyValueCacheTests.Rows(x, batch, total, done, n, e)));
            using var output = backend.Upload<T>(TestData.Poison<T>((long)batch * n * e));
            layer.ForwardStep(cache, input, output);
            AssertClose(KeyValueCacheTests.Rows(expected, batch, total, done, n, e), Widen(output.ToArray()), tolerance, $"step at {done}");
            done += n;
            Assert.Equal(done, cache.Length);
        }
    }

    public LayerReference.Result Reference(
        int batch, float[] query, float[] key, float[] value, LayerMasks? masks = null, float[]? sinks = null) =>
        LayerReference.Compute(Options, Weights, batch, query, key, value, masks, sinks);

    /// <summary>‖actual − expected‖₂ / ‖expected‖₂ ≤ tolerance, and no NaN (the outputs start poisoned).</summary>
    public static void AssertClose(double[] expected, float[] actual, double tolerance = 1e-5, string what = "output")
    {
        Assert.Equal(expected.Length, actual.Length);
        double error = 0, norm = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.False(float.IsNaN(actual[i]), $"{what}[{i}] is NaN (never written)");
            error += (actual[i] - expected[i]) * (actual[i] - expected[i]);
            norm += expected[i] * expected[i];
        }

        double relative = Math.Sqrt(error) / Math.Max(Math.Sqrt(norm), 1e-300);
        Assert.True(relative <= tolerance, $"{what}: relative error {relative:E2} > {tolerance:E0}");
    }
}
