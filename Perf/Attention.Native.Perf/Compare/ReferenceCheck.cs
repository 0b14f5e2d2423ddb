using Attention.Native.Perf.Workloads;
using Attention.Native.Reference;

namespace Attention.Native.Perf.Compare;

/// <summary>
/// The float64 reference for a case, computed once and compared with each backend's output. Large problems are
/// checked on a slice: batch 0 and the first key/value group (its query heads), with the same Lq, Lk and D, which in
/// BHSD order is a prefix of each tensor, so the slice's reference checks the start of the real output.
/// </summary>
internal sealed class ReferenceCheck
{
    /// <summary>Above this many <c>B·Hq·Lq·Lk·D</c> multiply-adds the reference runs on the slice only.</summary>
    public const double FullCheckLimit = 2e8;

    private readonly ReferenceResult reference;

    private ReferenceCheck(ReferenceResult reference, string scope)
    {
        this.reference = reference;
        Scope = scope;
    }

    /// <summary>What was checked: <c>full</c>, or the slice's description.</summary>
    public string Scope { get; }

    /// <summary>The reference on the operands as the backends read them (for Half and BFloat16: the rounded values).</summary>
    public static ReferenceCheck Compute<T>(PerfCase perfCase, (T[] Query, T[] Key, T[] Value) operands)
        where T : unmanaged
    {
        var shape = perfCase.Shape;
        string scope = "full";
        if (perfCase.ReferenceWork > FullCheckLimit)
        {
            shape = shape with { Batch = 1, QueryHeads = shape.GroupSize, KeyValueHeads = 1 };
            scope = $"slice b0 Hq={shape.QueryHeads} Hkv=1";
        }

        var result = ReferenceAttention.Compute<T>(
            shape,
            operands.Query.AsSpan(0, (int)shape.QueryElementCount),
            operands.Key.AsSpan(0, (int)shape.KeyElementCount),
            operands.Value.AsSpan(0, (int)shape.ValueElementCount),
            perfCase.Options with { Layout = AttentionLayout.Bhsd }); // compare makes every case's operands in BHSD order
        return new ReferenceCheck(result, scope);
    }

    /// <summary><c>‖out − ref‖ / ‖ref‖</c> over the checked part of <paramref name="output"/> (BHSD, contiguous).</summary>
    public double RelativeError<T>(ReadOnlySpan<T> output)
        where T : unmanaged =>
        reference.RelativeError(output[..(int)reference.Shape.OutputElementCount]);
}
