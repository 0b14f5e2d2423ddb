namespace Attention.Native.Cpu.Decode;

/// <summary>
/// The K and V rows the decode kernel reads: float, Half or BFloat16 (the call's operands), or int8 with a float scale
/// per (batch, KV head, key) — an int8 key/value cache, whose element <c>x</c> stands for <c>x·scale</c>. Element
/// strides are the problem's <see cref="Validation.AttentionProblem.Key"/> and <see cref="Validation.AttentionProblem.Value"/>.
/// </summary>
/// <typeparam name="TKv">float, Half, BFloat16 or sbyte.</typeparam>
internal readonly unsafe struct KeyValueRows<TKv>
    where TKv : unmanaged
{
    public TKv* Key { get; init; }

    public TKv* Value { get; init; }

    /// <summary>The keys' scales; null for unscaled rows.</summary>
    public float* KeyScales { get; init; }

    /// <summary>The values' scales; null for unscaled rows.</summary>
    public float* ValueScales { get; init; }

    /// <summary>Element strides of both scale arrays between batches, KV heads and keys (<see cref="TensorStrides.Sequence"/>).</summary>
    public TensorStrides ScaleStrides { get; init; }

    /// <summary>Whether the rows carry scales (int8).</summary>
    public bool IsScaled => KeyScales is not null;
}
