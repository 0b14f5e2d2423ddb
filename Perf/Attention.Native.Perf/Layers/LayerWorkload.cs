using Attention.Native.Layers;

namespace Attention.Native.Perf.Layers;

/// <summary>
/// A multi-head self-attention layer forward to time: <c>[B, L, E]</c> with H heads, random weights and inputs, and
/// the FLOPs it does: projections <c>2·M·N·K</c> each (Q, K, V and output: <c>8·B·L·E²</c>) plus attention
/// <c>4·B·H·L²·D</c>.
/// </summary>
internal sealed record LayerWorkload(string Name, int Batch, int Length, int ModelDim, int Heads)
{
    public static readonly IReadOnlyList<LayerWorkload> All =
    [
        new("seed", 32, 64, 512, 8),
        new("long", 1, 2048, 1024, 16),
    ];

    public int HeadDim => ModelDim / Heads;

    public double ProjectionFlops => 8.0 * Batch * Length * ModelDim * (double)ModelDim;

    public double AttentionFlops => 4.0 * Batch * Heads * Length * (double)Length * HeadDim;

    public double Flops => ProjectionFlops + AttentionFlops;

    public AttentionShape AttentionShape => new(Batch, Heads, Length, Length, HeadDim);

    public override string ToString() => $"{Name} (B={Batch}, L={Length}, E={ModelDim}, H={Heads})";

    public static IReadOnlyList<LayerWorkload> Filter(string? names) =>
        string.IsNullOrWhiteSpace(names) || names == "all"
            ? All
            : [.. names.Split(',', StringSplitOptions.TrimEntries).Select(n => All.FirstOrDefault(w => w.Name == n)
                ?? throw new ArgumentException($"Unknown layer shape '{n}'; known: {string.Join(", ", All.Select(w => w.Name))}.", nameof(names)))];

    /// <summary>A layer with random PyTorch-layout weights (scaled 1/√E) on <paramref name="backend"/>.</summary>
    public MultiHeadAttention<float> CreateLayer(AttentionBackend backend, Random random, bool tf32 = false) =>
        CreateLayer<float>(backend, random, tf32);

    /// <summary>A layer of <typeparamref name="T"/> with random weights (rounded to T) on <paramref name="backend"/>.</summary>
    public MultiHeadAttention<T> CreateLayer<T>(AttentionBackend backend, Random random, bool tf32 = false)
        where T : unmanaged
    {
        var layer = new MultiHeadAttention<T>(backend, new MultiHeadAttentionOptions(ModelDim, Heads) { AllowTensorFloat32 = tf32 });
        float amplitude = 1f / MathF.Sqrt(ModelDim);
        layer.LoadPyTorchWeights(
            Random(random, 3L * ModelDim * ModelDim, amplitude), Random(random, 3L * ModelDim, 0.1f),
            Random(random, (long)ModelDim * ModelDim, amplitude), Random(random, ModelDim, 0.1f));
        return layer;
    }

    public float[] Input(Random random) => Random(random, (long)Batch * Length * ModelDim, 1f);

    /// <summary>Uniform in ±<paramref name="amplitude"/>, rounded to <typeparamref name="T"/>.</summary>
    public static T[] Random<T>(Random random, long length, float amplitude)
        where T : unmanaged
    {
        var values = Random(random, length, amplitude);
        if (typeof(T) == typeof(float))
        {
            return (T[])(object)values;
        }

        var narrow = new T[length];
        for (long i = 0; i < length; i++)
        {
            narrow[i] = typeof(T) == typeof(Half) ? (T)(object)(Half)values[i] : (T)(object)(BFloat16)values[i];
        }

        return narrow;
    }

    public static float[] Random(Random random, long length, float amplitude)
    {
        var values = new float[length];
        for (long i = 0; i < length; i++)
        {
            values[i] = ((2 * random.NextSingle()) - 1) * amplitude;
        }

        return values;
    }
}
