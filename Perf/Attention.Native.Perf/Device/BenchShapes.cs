using System.Text.Json;
using System.Text.Json.Serialization;

namespace Attention.Native.Perf.Device;

/// <summary>
/// Perf/device/shapes.json: the shapes that <c>gpu-bench</c> and Perf/device/torch_sdpa.py both time, and how. Each
/// group's shapes are expanded over its dtypes and causal values; every row is keyed <c>name-causal|full-dtype</c> in
/// both tools (see <see cref="BenchConfig.Key"/> and <c>config_key</c> in the Python script).
/// </summary>
internal sealed record BenchShapes(BenchTiming Timing, IReadOnlyList<BenchGroup> Groups)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        ReadCommentHandling = JsonCommentHandling.Skip,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    };

    public static BenchShapes Load(string path)
    {
        var shapes = JsonSerializer.Deserialize<BenchShapes>(File.ReadAllText(path), Json)
            ?? throw new InvalidDataException($"{path} is empty.");
        if (shapes.Timing is null || shapes.Groups is null || shapes.Groups.Count == 0)
        {
            throw new InvalidDataException($"{path} needs \"timing\" and a non-empty \"groups\".");
        }

        foreach (var group in shapes.Groups)
        {
            foreach (string dtype in group.Dtypes)
            {
                _ = BenchConfig.ElementSize(dtype);
            }

            foreach (var shape in group.Shapes)
            {
                if (shape.Batch < 1 || shape.Heads < 1 || shape.KvHeads < 1 || shape.Heads % shape.KvHeads != 0 ||
                    shape.Lq < 1 || shape.Lk < 1 || shape.D < 1 || string.IsNullOrWhiteSpace(shape.Name) || shape.PageSize < 0
                    || (shape.PageSize > 0 && group.Kind != "decode")
                    || shape.Kv is not ("" or "int8" or "e4m3") || (shape.Kv.Length > 0 && group.Kind != "decode"))
                {
                    throw new InvalidDataException($"{path}: shape {shape} is not valid.");
                }
            }
        }

        return shapes;
    }

    /// <summary>Every (shape, dtype, causal) in file order.</summary>
    public IReadOnlyList<BenchConfig> Expand() =>
    [
        .. from g in Groups
           from shape in g.Shapes
           from dtype in g.Dtypes
           from causal in g.Causal
           select new BenchConfig(g.Kind, shape, dtype, causal),
    ];
}

/// <summary>The timing rules of shapes.json (its comment explains them). <see cref="MaxConfigMs"/> 0: no cap on the
/// samples' total time (then always <see cref="Samples"/> samples).</summary>
internal sealed record BenchTiming(
    int Samples, double WarmupMs, double MinSampleMs, double SlowMs, long RotateBytes, int MaxSets, double MaxConfigMs = 0)
{
    /// <summary>Samples for calls of <paramref name="sampleMs"/> each: <see cref="Samples"/>, fewer (at least 3) where
    /// they would take longer than <see cref="MaxConfigMs"/>.</summary>
    public int SamplesFor(double sampleMs) =>
        MaxConfigMs > 0 ? (int)Math.Clamp(MaxConfigMs / Math.Max(sampleMs, 1e-3), Math.Min(3, Samples), Samples) : Samples;
}

/// <summary>A group of shapes sharing dtypes and causal values.</summary>
internal sealed record BenchGroup(string Kind, IReadOnlyList<string> Dtypes, IReadOnlyList<bool> Causal, IReadOnlyList<BenchShape> Shapes);

/// <summary>One shape; <c>Dv = D</c>. <paramref name="PageSize"/> &gt; 0 (decode only): K and V are read from a paged
/// cache of pages that size (<see cref="PagedKeyValueLayout"/>), each sequence's pages in a shuffled order.
/// <paramref name="Kv"/> (decode only): <c>int8</c> or <c>e4m3</c> for an 8-bit K/V cache read by the split-KV kernels
/// (<c>KeyValue8BitAttention</c>; int8 with a scale per key, e4m3 per head), empty for K/V in the dtype.</summary>
internal sealed record BenchShape(string Name, int Batch, int Heads, int KvHeads, int Lq, int Lk, int D, int PageSize = 0, string Kv = "")
{
    /// <summary>Pages per sequence of a paged shape (the block table's columns).</summary>
    public int PagesPerSequence => PageSize > 0 ? (Lk + PageSize - 1) / PageSize : 0;
}

/// <summary>One timed configuration.</summary>
internal sealed record BenchConfig(string Kind, BenchShape Shape, string Dtype, bool Causal)
{
    /// <summary>The row key both tools write: <c>name-causal|full-dtype</c>.</summary>
    public string Key => $"{Shape.Name}-{(Causal ? "causal" : "full")}-{Dtype}";

    public AttentionShape AttentionShape => new(Shape.Batch, Shape.Heads, Shape.KvHeads, Shape.Lq, Shape.Lk, Shape.D, Shape.D);

    /// <summary>Whether the row times the backward (kind <c>backward</c>) rather than the forward.</summary>
    public bool Backward => Kind == "backward";

    /// <summary><c>4·B·H·Lq·Lk·D</c> forward, <c>10·B·H·Lq·Lk·D</c> backward (five matrix products to the forward's
    /// two), halved when causal (the FlashAttention papers' count).</summary>
    public double Flops => (Backward ? 10.0 : 4.0) * Shape.Batch * Shape.Heads * Shape.Lq * Shape.Lk * Shape.D * (Causal ? 0.5 : 1.0);

    /// <summary>Bytes of Q, K, V read and O written once (and a paged shape's block table); backward: Q, K, V, O, dO read
    /// and dQ, dK, dV written once. An 8-bit cache: K and V one byte an element, and their float scales (int8 two a
    /// key and KV head, e4m3 two a KV head).</summary>
    public double Bytes => (ElementSize(Dtype) * (Backward ? 2.0 : 1.0) * 2.0 * Shape.Batch * Shape.Heads * Shape.Lq * Shape.D)
        + ((Shape.Kv.Length > 0 ? 1.0 : ElementSize(Dtype) * (Backward ? 2.0 : 1.0)) * 2.0 * Shape.Batch * Shape.KvHeads * Shape.Lk * Shape.D)
        + (Shape.Kv switch { "int8" => 8.0 * Shape.Batch * Shape.KvHeads * Shape.Lk, "e4m3" => 8.0 * Shape.Batch * Shape.KvHeads, _ => 0 })
        + (4.0 * Shape.Batch * Shape.PagesPerSequence);

    public static int ElementSize(string dtype) => dtype switch
    {
        "fp32" => 4,
        "fp16" or "bf16" => 2,
        _ => throw new InvalidDataException($"Unknown dtype '{dtype}' (fp32, fp16 or bf16)."),
    };
}
