using Attention.Native.Cpu;

namespace Attention.Native.Layers;

/// <summary>
/// The memory of a <see cref="KeyValueCacheStorage.Int8"/> cache, in host memory (the CPU backend's): keys
/// <c>[B, Capacity, Hkv, D]</c> and values <c>[B, Capacity, Hkv, Dv]</c> as signed bytes, and one float scale per
/// (sequence, position, KV head) for each, <c>[B, Capacity, Hkv]</c>.
/// </summary>
internal sealed unsafe class Int8CacheRows : IDisposable
{
    private readonly AlignedMemoryHandle keys;
    private readonly AlignedMemoryHandle values;
    private readonly AlignedMemoryHandle keyScales;
    private readonly AlignedMemoryHandle valueScales;

    public Int8CacheRows(int batch, int capacity, int heads, int keyDim, int valueDim)
    {
        Batch = batch;
        Capacity = capacity;
        Heads = heads;
        KeyDim = keyDim;
        ValueDim = valueDim;
        long positions = checked((long)batch * capacity);
        long elements = checked(positions * heads * Math.Max(keyDim, valueDim));
        if (elements > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(
                nameof(capacity), capacity, $"An int8 cache holds at most {int.MaxValue} elements of keys (and of values); B·capacity·Hkv·D is {elements}.");
        }

        keys = new AlignedMemoryHandle(checked((nuint)(positions * heads * keyDim)), zero: true, gcPressure: true);
        try
        {
            values = new AlignedMemoryHandle(checked((nuint)(positions * heads * valueDim)), zero: true, gcPressure: true);
            keyScales = new AlignedMemoryHandle(checked((nuint)(positions * heads * sizeof(float))), zero: true, gcPressure: true);
            valueScales = new AlignedMemoryHandle(checked((nuint)(positions * heads * sizeof(float))), zero: true, gcPressure: true);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int Batch { get; }

    public int Capacity { get; }

    public int Heads { get; }

    public int KeyDim { get; }

    public int ValueDim { get; }

    public sbyte* Keys => (sbyte*)keys.Pointer;

    public sbyte* Values => (sbyte*)values.Pointer;

    public float* KeyScales => (float*)keyScales.Pointer;

    public float* ValueScales => (float*)valueScales.Pointer;

    /// <summary>Elements of one position's keys (all KV heads).</summary>
    public int KeyRow => Heads * KeyDim;

    /// <summary>Elements of one position's values (all KV heads).</summary>
    public int ValueRow => Heads * ValueDim;

    /// <summary>The first <paramref name="length"/> positions of every sequence into <paramref name="target"/> (same heads and dims).</summary>
    public void CopyTo(Int8CacheRows target, int length)
    {
        for (int b = 0; b < Batch; b++)
        {
            Copy(Keys, target.Keys, b, target.Capacity, length, KeyRow);
            Copy(Values, target.Values, b, target.Capacity, length, ValueRow);
            Copy(KeyScales, target.KeyScales, b, target.Capacity, length, Heads);
            Copy(ValueScales, target.ValueScales, b, target.Capacity, length, Heads);
        }
    }

    public void Dispose()
    {
        keys?.Dispose();
        values?.Dispose();
        keyScales?.Dispose();
        valueScales?.Dispose();
    }

    private void Copy<TElement>(TElement* source, TElement* target, int batch, int targetCapacity, int length, int row)
        where TElement : unmanaged =>
        new ReadOnlySpan<TElement>(source + ((long)batch * Capacity * row), checked(length * row))
            .CopyTo(new Span<TElement>(target + ((long)batch * targetCapacity * row), length * row));
}
