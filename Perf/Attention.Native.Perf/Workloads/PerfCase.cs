namespace Attention.Native.Perf.Workloads;

/// <summary>One measured problem: a named shape with or without a causal mask, fp32, BHSD layout.</summary>
/// <param name="Name">Shape name, e.g. <c>self-h8-l512-d64</c>; <c>--shapes</c> filters on <see cref="Label"/>.</param>
/// <param name="Shape">The sizes.</param>
/// <param name="Causal">The causal mask (<see cref="CausalMask.None"/> or <see cref="CausalMask.TopLeft"/>).</param>
public sealed record PerfCase(string Name, AttentionShape Shape, CausalMask Causal)
{
    public bool IsCausal => Causal != CausalMask.None;

    /// <summary>Decode shapes (one query against a long KV cache) are memory-bound: report GB/s for them.</summary>
    public bool IsDecode => Shape.QueryLength == 1;

    public string Mask => IsCausal ? "causal" : "none";

    public string Label => IsCausal ? $"{Name} causal" : Name;

    /// <summary><c>4·B·Hq·Lq·Lk·D</c> (the library's <see cref="AttentionShape.FlopCount"/>), halved when causal.</summary>
    public double Flops => Shape.FlopCount * (IsCausal ? 0.5 : 1.0);

    /// <summary>Bytes of K and V read once: <c>B·Hkv·Lk·(D + Dv)·4</c>.</summary>
    public double KeyValueBytes =>
        (double)Shape.Batch * Shape.KeyValueHeads * Shape.KeyLength * (Shape.HeadDim + Shape.ValueHeadDim) * sizeof(float);

    /// <summary>Multiply-adds of the plain product <c>B·Hq·Lq·Lk·D</c>, which sizes the reference check.</summary>
    public double ReferenceWork =>
        (double)Shape.Batch * Shape.QueryHeads * Shape.QueryLength * Shape.KeyLength * Shape.HeadDim;

    public AttentionOptions Options => new() { Causal = Causal };

    /// <summary>BenchmarkDotNet prints parameters with <see cref="object.ToString"/>.</summary>
    public override string ToString() => Label;
}
