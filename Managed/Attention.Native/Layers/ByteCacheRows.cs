using System.Runtime.InteropServices;
using Attention.Native.Cpu;
using Attention.Native.Cuda;
using Attention.Native.Cuda.KeyValueCache;
using Attention.Native.Cuda.SplitKv;

namespace Attention.Native.Layers;

/// <summary>
/// The memory of an 8-bit cache (<see cref="KeyValueCacheStorage.Int8"/>, <see cref="KeyValueCacheStorage.Float8E4M3"/>),
/// on its layer's backend (host memory for the CPU, device memory for CUDA): keys <c>[B, Capacity, Hkv, D]</c> and
/// values <c>[B, Capacity, Hkv, Dv]</c> as bytes of <see cref="Format"/>, and float scales for each: int8 one per
/// (sequence, position, KV head), <c>[B, Capacity, Hkv]</c>; e4m3 one per KV head, <c>[Hkv]</c>, shared by every
/// position (<see cref="ScaleStrides"/> addresses both). Zero-filled when created.
/// </summary>
internal sealed unsafe class ByteCacheRows : IDisposable
{
    private const int KeyBytes = 0, ValueBytes = 1, KeyScaleFloats = 2, ValueScaleFloats = 3;

    private readonly SafeHandle?[] buffers = new SafeHandle?[4];
    private readonly ulong[] addresses = new ulong[4];

    /// <summary>A cache in <paramref name="device"/>'s memory, or in host memory when it is null.</summary>
    public ByteCacheRows(
        KeyValue8BitFormat format, int batch, int capacity, int heads, int keyDim, int valueDim, CudaBackend? device)
    {
        Format = format;
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
                nameof(capacity), capacity, $"An 8-bit cache holds at most {int.MaxValue} elements of keys (and of values); B·capacity·Hkv·D is {elements}.");
        }

        long scales = format == KeyValue8BitFormat.Int8 ? positions * heads : heads;

        try
        {
            Allocate(KeyBytes, positions * heads * keyDim);
            Allocate(ValueBytes, positions * heads * valueDim);
            Allocate(KeyScaleFloats, scales * sizeof(float));
            Allocate(ValueScaleFloats, scales * sizeof(float));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The bytes' number format, and so where the scales are.</summary>
    public KeyValue8BitFormat Format { get; }

    /// <summary>
    /// Whether the per-head scales of a <see cref="KeyValue8BitFormat.Float8E4M3"/> cache are in place (given at its
    /// creation, or taken at its first append); an int8 cache's scales come with each position.
    /// </summary>
    public bool HasScales { get; set; }

    /// <summary>
    /// Element strides of both scale arrays between sequences (or pages), KV heads and positions, as the attention
    /// kernels address them: <c>(Capacity·Hkv, 1, Hkv)</c> for int8, <c>(0, 1, 0)</c> for e4m3's one scale per head.
    /// </summary>
    public TensorStrides ScaleStrides =>
        Format == KeyValue8BitFormat.Int8 ? new((long)Capacity * Heads, 1, Heads) : new(0, 1, 0);

    /// <summary>Floats in each scale array.</summary>
    public long ScaleCount => Format == KeyValue8BitFormat.Int8 ? (long)Batch * Capacity * Heads : Heads;

    public int Batch { get; }

    public int Capacity { get; }

    public int Heads { get; }

    public int KeyDim { get; }

    public int ValueDim { get; }

    /// <summary>The backend whose device memory holds the cache; null for host memory.</summary>
    public CudaBackend? Device { get; }

    /// <summary>The keys' bytes (signed for int8; e4m3 bits read through <see cref="Cpu.Decode.Fp8E4M3"/>).</summary>
    public sbyte* Keys => (sbyte*)Host(KeyBytes);

    public sbyte* Values => (sbyte*)Host(ValueBytes);

    public float* KeyScales => (float*)Host(KeyScaleFloats);

    public float* ValueScales => (float*)Host(ValueScaleFloats);

    /// <summary>The keys' bytes and scales in device memory.</summary>
    public ByteCacheAddress DeviceKeys => new(Format, new(DeviceAddress(KeyBytes)), new(addresses[KeyScaleFloats]), Heads, KeyDim);

    /// <summary>The values' bytes and scales in device memory.</summary>
    public ByteCacheAddress DeviceValues => new(Format, new(DeviceAddress(ValueBytes)), new(addresses[ValueScaleFloats]), Heads, ValueDim);

    /// <summary>Elements of one position's keys (all KV heads).</summary>
    public int KeyRow => Heads * KeyDim;

    /// <summary>Elements of one position's values (all KV heads).</summary>
    public int ValueRow => Heads * ValueDim;

    /// <summary>
    /// Sets the per-head scales of a <see cref="KeyValue8BitFormat.Float8E4M3"/> cache (on a device, queued on its
    /// stream) and marks them in place.
    /// </summary>
    public void SetScales(float[] keys, float[] values)
    {
        if (Device is { } device)
        {
            lock (device.LaunchGate)
            {
                device.EnterContext();
                // Copies of the caller's arrays: the upload is queued, and the caller may change them before it runs.
                device.Stream.CopyToDevice<float>(addresses[KeyScaleFloats], keys[..Heads]);
                device.Stream.CopyToDevice<float>(addresses[ValueScaleFloats], values[..Heads]);
            }
        }
        else
        {
            keys.AsSpan(0, Heads).CopyTo(new Span<float>(KeyScales, Heads));
            values.AsSpan(0, Heads).CopyTo(new Span<float>(ValueScales, Heads));
        }

        HasScales = true;
    }

    /// <summary>
    /// The first <paramref name="length"/> positions of every sequence into <paramref name="target"/> (same heads, dims
    /// and memory; on a device, queued on its stream).
    /// </summary>
    public void CopyTo(ByteCacheRows target, int length)
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

    private void CopyRows(ByteCacheRows target, int length)
    {
        bool perPosition = Format == KeyValue8BitFormat.Int8;
        for (int b = 0; b < Batch; b++)
        {
            Copy(target, KeyBytes, b, length, KeyRow);
            Copy(target, ValueBytes, b, length, ValueRow);
            if (perPosition)
            {
                Copy(target, KeyScaleFloats, b, length, Heads * sizeof(float));
                Copy(target, ValueScaleFloats, b, length, Heads * sizeof(float));
            }
        }

        if (!perPosition)
        {
            // One scale per head: the whole array, as row 0 of sequence 0.
            Copy(target, KeyScaleFloats, 0, 1, Heads * sizeof(float));
            Copy(target, ValueScaleFloats, 0, 1, Heads * sizeof(float));
        }

        target.HasScales = HasScales;
    }

    private void Copy(ByteCacheRows target, int buffer, int batch, int length, int rowBytes)
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
        Device is null ? (void*)addresses[buffer] : throw new InvalidOperationException("The 8-bit cache is in device memory.");

    private ulong DeviceAddress(int buffer) =>
        Device is not null ? addresses[buffer] : throw new InvalidOperationException("The 8-bit cache is in host memory.");
}
