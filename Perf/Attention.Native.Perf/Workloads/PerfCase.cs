using Attention.Native.Perf.Peers;

namespace Attention.Native.Perf.Workloads;

/// <summary>One measured problem: a named shape with or without a causal mask, in one operand layout.</summary>
/// <param name="ShapeName">The shape's name, e.g. <c>self-h8-l512-d64</c>, shared by both layouts of it.</param>
/// <param name="Shape">The sizes.</param>
/// <param name="Causal">The causal mask (<see cref="CausalMask.None"/> or <see cref="CausalMask.TopLeft"/>).</param>
/// <param name="Layout">How the backend's Q, K, V and output are laid out: contiguous <c>[B, H, L, D]</c>, or
/// <c>[B, L, H, D]</c> as a model's projections leave them. Operands are made, checked and given to the peers in
/// BHSD order; only the backend's copies are rearranged.</param>
public sealed record PerfCase(string ShapeName, AttentionShape Shape, CausalMask Causal, AttentionLayout Layout = AttentionLayout.Bhsd)
{
    /// <summary>The name in the tables: <see cref="ShapeName"/>, with <c>-bshd</c> for that layout; <c>--shapes</c>
    /// filters on <see cref="Label"/>.</summary>
    public string Name => Layout == AttentionLayout.Bshd ? $"{ShapeName}-bshd" : ShapeName;

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

    public AttentionOptions Options => new() { Causal = Causal, Layout = Layout };

    /// <summary>Q (<paramref name="rows"/> = Lq, D wide) or K, V (Lk, with their heads) of BHSD
    /// <paramref name="bhsd"/> in <see cref="Layout"/>; the same array for BHSD.</summary>
    public T[] InLayout<T>(T[] bhsd, int heads, int rows, int dim) =>
        Layout == AttentionLayout.Bshd ? HeadLayout.ToSequenceMajor(bhsd, Shape.Batch, heads, rows, dim) : bhsd;

    /// <summary>The backend's output (in <see cref="Layout"/>) in BHSD order, as the reference check reads it.</summary>
    public T[] OutputAsBhsd<T>(T[] output) =>
        Layout == AttentionLayout.Bshd
            ? HeadLayout.ToHeadMajor(output, Shape.Batch, Shape.QueryHeads, Shape.QueryLength, Shape.ValueHeadDim)
            : output;

    /// <summary>BenchmarkDotNet prints parameters with <see cref="object.ToString"/>.</summary>
    public override string ToString() => Label;
}
