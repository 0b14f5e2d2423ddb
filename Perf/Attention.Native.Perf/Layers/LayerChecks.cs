using Attention.Native.Layers;

namespace Attention.Native.Perf.Layers;

/// <summary>
/// The layers on one backend against the same layers on another (the CPU backend, which the test suite holds to a
/// float64 reference at 1e-5): self, cross with kdim/vdim ≠ E and key padding, GQA with causal and per-head weights,
/// KV-cache decoding, additive attention with a mask, and the seed's shape.
/// </summary>
internal static class LayerChecks
{
    public sealed record Check(string Name, double Error, double Tolerance)
    {
        public bool Passed => Error <= Tolerance;
    }

    public static IEnumerable<Check> Run(AttentionBackend subject, AttentionBackend oracle)
    {
        yield return Mha("self B=2 L=33 E=64 H=8", subject, oracle, new(64, 8), 2, 33, 33, masks: null, perHead: false);
        yield return Mha("cross Lq=17 Lk=40 E=48 kdim=20 vdim=28, key padding", subject, oracle,
            new(48, 4) { KeyInputDim = 20, ValueInputDim = 28 }, 2, 17, 40,
            new LayerMasks { KeyPadding = Enumerable.Range(0, 80).Select(i => i % 40 < 30).ToArray() }, perHead: false);
        yield return Mha("GQA H=8 Hkv=2, causal, per-head weights", subject, oracle,
            new(64, 8) { NumKeyValueHeads = 2 }, 2, 24, 24, new LayerMasks { Causal = CausalMask.TopLeft }, perHead: true);
        yield return Decode(subject, oracle);
        yield return Additive(subject, oracle);
        // E = 512: each output sums 512 products twice over, so fp32 rounding differs more between backends (1e-4).
        yield return Mha("seed B=32 L=64 E=512 H=8", subject, oracle, new(512, 8), 32, 64, 64, null, perHead: false, tolerance: 1e-4);
        // Half and BFloat16 layers against the oracle's layer of the same type (the same roundings of weights, inputs,
        // projections and outputs; the test suite holds it within 2 u of float64): what differs is summation order and
        // the GPU's rounding of the probabilities before P·V, about u/2 each, so 2 u (u = 2⁻¹¹, 2⁻⁸).
        foreach (var (name, options, batch, length) in TypedShapes)
        {
            yield return Typed<Half>($"Half {name}", subject, oracle, options, batch, length, 2.0 / 2048);
            yield return Typed<BFloat16>($"BFloat16 {name}", subject, oracle, options, batch, length, 2.0 / 256);
        }
    }

    /// <summary>Self-attention shapes for the Half/BFloat16 checks: odd head size (SIMT on a GPU), 16 and 64 (tensor cores).</summary>
    private static readonly (string Name, MultiHeadAttentionOptions Options, int Batch, int Length)[] TypedShapes =
    [
        ("self B=2 L=7 E=12 H=3", new(12, 3), 2, 7),
        ("self B=2 L=65 E=64 H=4, causal GQA", new(64, 4) { NumKeyValueHeads = 2 }, 2, 65),
        ("seed B=32 L=64 E=512 H=8", new(512, 8), 32, 64),
    ];

    private static Check Mha(
        string name, AttentionBackend subject, AttentionBackend oracle, MultiHeadAttentionOptions options, int batch, int lq, int lk,
        LayerMasks? masks, bool perHead, double tolerance = 1e-5)
    {
        var random = new Random(name.Length);
        int kdim = options.KeyInputDim ?? options.ModelDim, vdim = options.ValueInputDim ?? options.ModelDim;
        var q = LayerWorkload.Random(random, (long)batch * lq * options.ModelDim, 1);
        var k = LayerWorkload.Random(random, (long)batch * lk * kdim, 1);
        var v = LayerWorkload.Random(random, (long)batch * lk * vdim, 1);
        var mode = perHead ? AttentionWeightsMode.PerHead : AttentionWeightsMode.AveragedOverHeads;
        (float[] Output, float[] Weights) Run(AttentionBackend backend)
        {
            using var layer = new MultiHeadAttention<float>(backend, options);
            using var source = new MultiHeadAttention<float>(oracle, options);
            var weights = RandomWeights(source, new Random(7));
            layer.LoadPyTorchWeights(weights.QProjWeight, weights.KProjWeight, weights.VProjWeight, weights.InProjBias, weights.OutProjWeight, weights.OutProjBias);
            var output = new float[q.Length];
            var probabilities = new float[batch * (perHead ? options.NumHeads : 1) * lq * lk];
            layer.Forward(batch, q, k, v, output, masks, probabilities, mode);
            return (output, probabilities);
        }

        var expected = Run(oracle);
        var actual = Run(subject);
        return new(name, Math.Max(RelativeError(expected.Output, actual.Output), RelativeError(expected.Weights, actual.Weights)), tolerance);
    }

    private static Check Typed<T>(
        string name, AttentionBackend subject, AttentionBackend oracle, MultiHeadAttentionOptions options, int batch, int length,
        double tolerance)
        where T : unmanaged
    {
        var random = new Random(name.Length);
        var x = LayerWorkload.Random(random, (long)batch * length * options.ModelDim, 1).Select(ElementOf<T>).ToArray();
        var masks = options.NumKeyValueHeads is null ? null : new LayerMasks { Causal = CausalMask.TopLeft };
        float[] Run(AttentionBackend backend)
        {
            using var layer = new MultiHeadAttention<T>(backend, options);
            using var source = new MultiHeadAttention<float>(oracle, options);
            var w = RandomWeights(source, new Random(11));
            layer.LoadPyTorchWeights(w.QProjWeight, w.KProjWeight, w.VProjWeight, w.InProjBias, w.OutProjWeight, w.OutProjBias);
            var output = new T[x.Length];
            layer.Forward(batch, x, output, masks);
            return [.. output.Select(FloatOf)];
        }

        return new(name, RelativeError(Run(oracle), Run(subject)), tolerance);
    }

    private static T ElementOf<T>(float value) =>
        typeof(T) == typeof(Half) ? (T)(object)(Half)value : typeof(T) == typeof(BFloat16) ? (T)(object)(BFloat16)value : (T)(object)value;

    private static float FloatOf<T>(T value) => value switch
    {
        Half h => (float)h,
        BFloat16 b => b.ToSingle(),
        _ => (float)(object)value!,
    };

    private static Check Decode(AttentionBackend subject, AttentionBackend oracle)
    {
        var options = new MultiHeadAttentionOptions(32, 4) { NumKeyValueHeads = 2 };
        var random = new Random(3);
        int[] steps = [3, 1, 1, 2, 1];
        var inputs = steps.Select(n => LayerWorkload.Random(random, 2L * n * 32, 1)).ToArray();
        float[] Run(AttentionBackend backend)
        {
            using var layer = new MultiHeadAttention<float>(backend, options);
            using var source = new MultiHeadAttention<float>(oracle, options);
            var w = RandomWeights(source, new Random(9));
            layer.LoadPyTorchWeights(w.QProjWeight, w.KProjWeight, w.VProjWeight, w.InProjBias, w.OutProjWeight, w.OutProjBias);
            using var cache = layer.CreateCache(2, capacity: 2, growable: true);
            var all = new List<float>();
            foreach (var x in inputs)
            {
                using var input = backend.Upload<float>(x);
                using var output = backend.Allocate<float>(x.Length);
                layer.ForwardStep(cache, input, output);
                all.AddRange(output.ToArray());
            }

            return [.. all];
        }

        return new("KV-cache decode, steps 3,1,1,2,1, growable", RelativeError(Run(oracle), Run(subject)), 1e-5);
    }

    private static Check Additive(AttentionBackend subject, AttentionBackend oracle)
    {
        var random = new Random(5);
        var options = new AdditiveAttentionOptions(12, 10, 24) { ValueDim = 9 };
        var w1 = LayerWorkload.Random(random, 24 * 12, 0.3f);
        var w2 = LayerWorkload.Random(random, 24 * 10, 0.3f);
        var v = LayerWorkload.Random(random, 24, 0.5f);
        var q = LayerWorkload.Random(random, 2 * 7 * 12, 1);
        var k = LayerWorkload.Random(random, 2 * 19 * 10, 1);
        var value = LayerWorkload.Random(random, 2 * 19 * 9, 1);
        var masks = new LayerMasks { AttentionMask = Enumerable.Range(0, 7 * 19).Select(i => i % 5 != 0).ToArray(), KeyLengths = new[] { 13, 19 } };
        float[] Run(AttentionBackend backend)
        {
            using var layer = new AdditiveAttention(backend, options);
            layer.LoadWeights(w1, w2, v);
            var output = new float[2 * 7 * 9];
            var weights = new float[2 * 7 * 19];
            layer.Forward(2, q, k, value, output, masks, weights);
            return [.. output, .. weights];
        }

        return new("additive Tq=7 Tk=19 U=24, mask + key lengths", RelativeError(Run(oracle), Run(subject)), 1e-5);
    }

    /// <summary>Random weights in the PyTorch layout of <paramref name="layer"/>'s sizes (read back to get them).</summary>
    private static PyTorchAttentionWeights RandomWeights(MultiHeadAttention<float> layer, Random random)
    {
        var zero = layer.ReadPyTorchWeights();
        float[] Fill(float[] like, int fanIn) => LayerWorkload.Random(random, like.Length, 1f / MathF.Sqrt(fanIn));
        return new(
            Fill(zero.QProjWeight, layer.ModelDim), Fill(zero.KProjWeight, layer.KeyInputDim), Fill(zero.VProjWeight, layer.ValueInputDim),
            Fill(zero.InProjBias, 10), Fill(zero.OutProjWeight, layer.NumHeads * layer.ValueDim), Fill(zero.OutProjBias, 10));
    }

    private static double RelativeError(float[] expected, float[] actual)
    {
        double error = 0, norm = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = (double)actual[i] - expected[i];
            error += double.IsNaN(d) ? double.PositiveInfinity : d * d;
            norm += (double)expected[i] * expected[i];
        }

        return norm == 0 ? Math.Sqrt(error) : Math.Sqrt(error / norm);
    }
}
