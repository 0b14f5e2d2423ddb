using Attention.Native.Cuda.Interop;
using Attention.Native.Cuda.SplitKv;

namespace Attention.Native.Cuda.KeyValueCache;

/// <summary>
/// The <c>kv_cache_*</c> kernels (Native/kv_cache.cu): rows of projected keys or values appended into a paged pool of
/// <typeparamref name="T"/> or quantised into an int8 cache in device memory, and int8 cache positions read back into
/// rows of <typeparamref name="T"/>, in the CPU's number format (<see cref="Cpu.Decode.Int8Quantizer"/>). The module
/// loads on first use; a listed position array rides in a grow-only device buffer, queued on the stream like the
/// copies. Callers hold the backend's launch lock.
/// </summary>
/// <typeparam name="T">The rows' element type.</typeparam>
internal sealed class KeyValueCacheLaunch<T>(CudaBackend backend) : IDisposable
    where T : unmanaged
{
    public const string ResourceName = "ptx/kv_cache.ptx";
    private const int Threads = 32;

    private readonly DeviceScratch positionScratch = new(backend, 4096);
    private CudaModuleHandle? module;
    private Kernel? kernels;

    /// <summary>
    /// Copies <paramref name="rows"/> (<paramref name="heads"/>·<paramref name="dim"/> elements each) into the positions
    /// <paramref name="at"/> names of <paramref name="pool"/> (<c>[positions, heads, dim]</c>).
    /// </summary>
    public void Append(DevicePointer<T> rows, long rowStride, DevicePointer<T> pool, int heads, int dim, CachePositions at) =>
        Launch(Kernels().Append, rows, rowStride, new(KeyValue8BitFormat.Int8, DevicePointer<sbyte>.Null, DevicePointer<float>.Null, heads, dim), at, pool);

    /// <summary>
    /// Quantises <paramref name="rows"/> (heads side by side) into the cache positions <paramref name="at"/> names: int8
    /// with a scale per (position, head) written beside them, e4m3 by the cache's per-head scales.
    /// </summary>
    public void Quantize(DevicePointer<T> rows, long rowStride, ByteCacheAddress cache, CachePositions at) =>
        Launch(cache.Format == KeyValue8BitFormat.Int8 ? Kernels().Quantize : Kernels().QuantizeE4M3, rows, rowStride, cache, at, DevicePointer<T>.Null);

    /// <summary>Reads the cache positions <paramref name="at"/> names, dequantised and rounded to <typeparamref name="T"/>, into <paramref name="rows"/>.</summary>
    public void Dequantize(ByteCacheAddress cache, CachePositions at, DevicePointer<T> rows, long rowStride) =>
        Launch(cache.Format == KeyValue8BitFormat.Int8 ? Kernels().Dequantize : Kernels().DequantizeE4M3, rows, rowStride, cache, at, DevicePointer<T>.Null);

    public void Dispose()
    {
        positionScratch.Dispose();
        module?.Dispose();
    }

    private void Launch(
        CudaKernel function, DevicePointer<T> rows, long rowStride, ByteCacheAddress cache, CachePositions at, DevicePointer<T> pool)
    {
        if (at.RowCount == 0)
        {
            return;
        }

        if (cache.Heads > function.Limits.MaxGridY)
        {
            throw new NotSupportedException($"A key/value cache of the CUDA layers takes at most {function.Limits.MaxGridY} KV heads.");
        }

        var positions = DevicePointer<long>.Null;
        if (!at.Listed.IsEmpty)
        {
            ulong address = positionScratch.Reserve((long)at.Listed.Length * sizeof(long));
            backend.Stream.CopyToDevice(address, at.Listed);
            positions = new DevicePointer<long>(address);
        }

        var parameters = new KvCacheParams<T>
        {
            Rows = rows,
            Pool = pool,
            Cache = cache.Bytes,
            Scales = cache.Scales,
            Positions = positions,
            RowStride = rowStride,
            RunStride = at.RunStride,
            Offset = at.Offset,
            Run = Math.Max(at.Run, 1),
            RowCount = at.RowCount,
            Heads = cache.Heads,
            Dim = cache.Dim,
        };
        var launch = new LaunchConfiguration((uint)at.RowCount, (uint)cache.Heads, 1, Threads, 1, 1, 0, backend.Stream.Handle);
        NativeKernels.Launch(function, in launch, in parameters);
    }

    private Kernel Kernels()
    {
        if (kernels is null)
        {
            module = CudaModuleHandle.Load(backend.Context, PtxResource.Read(ResourceName), ResourceName);
            kernels = new Kernel(
                CudaKernel.Get(module, KernelNames.KvCacheAppendName<T>(), backend.Device),
                CudaKernel.Get(module, KernelNames.KvCacheQuantizeInt8Name<T>(), backend.Device),
                CudaKernel.Get(module, KernelNames.KvCacheDequantizeInt8Name<T>(), backend.Device),
                CudaKernel.Get(module, KernelNames.KvCacheQuantizeE4m3Name<T>(), backend.Device),
                CudaKernel.Get(module, KernelNames.KvCacheDequantizeE4m3Name<T>(), backend.Device));
        }

        return kernels.Value;
    }

    private readonly record struct Kernel(
        CudaKernel Append, CudaKernel Quantize, CudaKernel Dequantize, CudaKernel QuantizeE4M3, CudaKernel DequantizeE4M3);
}

/// <summary>One half (keys or values) of an 8-bit cache in device memory: bytes <c>[positions, Heads, Dim]</c>, scales
/// <c>[positions, Heads]</c> for int8, <c>[Heads]</c> for e4m3 (null for an append, which takes only the geometry).</summary>
internal readonly record struct ByteCacheAddress(
    KeyValue8BitFormat Format, DevicePointer<sbyte> Bytes, DevicePointer<float> Scales, int Heads, int Dim);

/// <summary>
/// The cache position of each of <see cref="RowCount"/> rows (appends to an element pool take the same rule as the
/// 8-bit caches): row r at <c>s·RunStride + Offset + r % Run</c>, where s is <c>Listed[r / Run]</c> where runs are listed
/// (a paged pool's slots, or its pages), else <c>r / Run</c> (the contiguous cache's sequences).
/// </summary>
internal readonly record struct CachePositions(int RowCount, int Run, long RunStride, long Offset, ReadOnlyMemory<long> Listed)
{
    /// <summary>Positions listed one per row.</summary>
    public static CachePositions List(ReadOnlyMemory<long> positions) => new(positions.Length, 1, 1, 0, positions);

    /// <summary>Whole pages of <paramref name="pageSize"/> positions, listed by their index.</summary>
    public static CachePositions Pages(ReadOnlyMemory<long> pages, int pageSize) =>
        new(checked(pages.Length * pageSize), pageSize, pageSize, 0, pages);

    /// <summary>Runs of <paramref name="run"/> rows, sequence s's at positions <c>s·runStride + offset</c> on.</summary>
    public static CachePositions Runs(int sequences, int run, long runStride, long offset) =>
        new(checked(sequences * run), run, runStride, offset, default);
}
