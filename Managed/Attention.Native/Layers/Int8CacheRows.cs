using System.Runtime.InteropServices;
using Attention.Native.Cpu;
using Attention.Native.Cuda;
using Attention.Native.Cuda.KeyValueCache;

namespace Attention.Native.Layers;

/// <summary>
/// The memory of a <see cref="KeyValueCacheStorage.Int8"/> cache, on its layer's backend (host memory for the CPU,
/// device memory for CUDA): keys <c>[B, Capacity, Hkv, D]</c> and values <c>[B, Capacity, Hkv, Dv]</c> as signed bytes,
/// and one float scale per (sequence, position, KV head) for each, <c>[B, Capacity, Hkv]</c>. Zero-filled when created.
/// </summary>
internal sealed unsafe class Int8CacheRows : IDisposable
{
    private const int KeyBytes = 0, ValueBytes = 1, KeyScaleFloats = 2, ValueScaleFloats = 3;

    private readonly SafeHandle?[] buffers = new SafeHandle?[4];
    private readonly ulong[] addresses = new ulong[4];

    /// <summary>A cache in host memory (the CPU backend's).</summary>
    public Int8CacheRows(int batch, int capacity, int heads, int keyDim, int valueDim)
        : this(batch, capacity, heads, keyDim, valueDim, device: null)
    {
    }

    /// <summary>A cache in <paramref name="device"/>'s memory, or in host memory when it is null.</summary>
    public Int8CacheRows(int batch, int capacity, int heads, int keyDim, int valueDim, CudaBackend? device)
    {
        Batch = batch;
        Capacity = capacity;
        Heads = heads;
        KeyDim = keyDim;
        ValueDim = valueDim;
        Device = device;
        long positions = checked((long)batch * capacity);
        long elements = checked(positions * heads * Math.Max(keyDim, valueDim));
        if (elements > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(
                nameof(capacity), capacity, $"An int8 cache holds at most {int.MaxValue} elements of keys (and of values); B·capacity·Hkv·D is {elements}.");
        }

        try
        {
            Allocate(KeyBytes, positions * heads * keyDim);
            Allocate(ValueBytes, positions * heads * valueDim);
            Allocate(KeyScaleFloats, positions * heads * sizeof(float));
            Allocate(ValueScaleFloats, positions * heads * sizeof(float));
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

    /// <summary>The backend whose device memory holds the cache; null for host memory.</summary>
    public CudaBackend? Device { get; }

    public sbyte* Keys => (sbyte*)Host(KeyBytes);

    public sbyte* Values => (sbyte*)Host(ValueBytes);

    public float* KeyScales => (float*)Host(KeyScaleFloats);

    public float* ValueScales => (float*)Host(ValueScaleFloats);

    /// <summary>The keys' bytes and scales in device memory.</summary>
    public Int8CacheAddress DeviceKeys => new(new(DeviceAddress(KeyBytes)), new(addresses[KeyScaleFloats]), Heads, KeyDim);

    /// <summary>The values' bytes and scales in device memory.</summary>
    public Int8CacheAddress DeviceValues => new(new(DeviceAddress(ValueBytes)), new(addresses[ValueScaleFloats]), Heads, ValueDim);

    /// <summary>Elements of one position's keys (all KV heads).</summary>
    public int KeyRow => Heads * KeyDim;

    /// <summary>Elements of one position's values (all KV heads).</summary>
    public int ValueRow => Heads * ValueDim;

    /// <summary>
    /// The first <paramref name="length"/> positions of every sequence into <paramref name="target"/> (same heads, dims
    /// and memory; on a device, queued on its stream).
    /// </summary>
    public void CopyTo(Int8CacheRows target, int length)
    {
        if (Device is { } device)
        {
            lock (device.LaunchGate)
            {
                device.EnterContext();
                CopyRows(target, length);
            }

            return;
        }

        CopyRows(target, length);
    }

    public void Dispose()
    {
        foreach (var buffer in buffers)
        {
            buffer?.Dispose();
        }
    }

    private void CopyRows(Int8CacheRows target, int length)
    {
        for (int b = 0; b < Batch; b++)
        {
            Copy(target, KeyBytes, b, length, KeyRow);
            Copy(target, ValueBytes, b, length, ValueRow);
            Copy(target, KeyScaleFloats, b, length, Heads * sizeof(float));
            Copy(target, ValueScaleFloats, b, length, Heads * sizeof(float));
        }
    }

    private void Copy(Int8CacheRows target, int buffer, int batch, int length, int rowBytes)
    {
        ulong source = addresses[buffer] + (ulong)((long)batch * Capacity * rowBytes);
        ulong destination = target.addresses[buffer] + (ulong)((long)batch * target.Capacity * rowBytes);
        long bytes = checked((long)length * rowBytes);
        if (Device is { } device)
        {
            device.Stream.CopyOnDevice(destination, source, (nuint)bytes);
        }
        else
        {
            Buffer.MemoryCopy((void*)source, (void*)destination, bytes, bytes);
        }
    }

    private void Allocate(int buffer, long bytes)
    {
        if (Device is { } device)
        {
            var memory = device.AllocateZeroed(checked((nuint)bytes));
            (buffers[buffer], addresses[buffer]) = (memory, memory.Address);
        }
        else
        {
            var memory = new AlignedMemoryHandle(checked((nuint)bytes), zero: true, gcPressure: true);
            (buffers[buffer], addresses[buffer]) = (memory, (ulong)memory.Pointer);
        }
    }

    private void* Host(int buffer) =>
        Device is null ? (void*)addresses[buffer] : throw new InvalidOperationException("The int8 cache is in device memory.");

    private ulong DeviceAddress(int buffer) =>
        Device is not null ? addresses[buffer] : throw new InvalidOperationException("The int8 cache is in host memory.");
}
