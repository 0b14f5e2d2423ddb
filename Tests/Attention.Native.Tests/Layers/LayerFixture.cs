using Attention.Native;
using Attention.Native.Layers;

namespace Attention.Native.Tests.Layers;

/// <summary>A layer with fresh random PyTorch-layout weights, random inputs, and the checks against <see cref="LayerReference"/>.</summary>
public sealed class LayerFixture
{
    public LayerFixture(MultiHeadAttentionOptions options, int seed)
    {
        Options = options;
        Random = new Random(seed);
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

    public MultiHeadAttentionOptions Options { get; }

    public Random Random { get; }

    public PyTorchAttentionWeights Weights { get; }

    public int ModelDim => Options.ModelDim;

    public int KeyInputDim => Options.KeyInputDim ?? Options.ModelDim;

    public int ValueInputDim => Options.ValueInputDim ?? Options.ModelDim;

    public float[] Values(int length, int fanIn) => TestData.Random<float>(Random, length, 1f / MathF.Sqrt(fanIn));

    public float[] Input(int batch, int length, int features) => TestData.Random<float>(Random, (long)batch * length * features, 1f);

    public MultiHeadAttention Create(AttentionBackend backend)
    {
        var layer = new MultiHeadAttention(backend, Options);
        layer.LoadPyTorchWeights(
            Weights.QProjWeight, Weights.KProjWeight, Weights.VProjWeight, Weights.InProjBias, Weights.OutProjWeight, Weights.OutProjBias);
        return layer;
    }

    public LayerReference.Result Reference(int batch, float[] query, float[] key, float[] value, LayerMasks? masks = null) =>
        LayerReference.Compute(Options, Weights, batch, query, key, value, masks);

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
