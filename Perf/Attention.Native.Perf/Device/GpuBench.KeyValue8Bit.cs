using Attention.Native.Cuda;
using Attention.Native.Cuda.SplitKv;

namespace Attention.Native.Perf.Device;

/// <summary>The decode rows over an 8-bit K/V cache (<see cref="BenchShape.Kv"/>): <see cref="KeyValue8BitAttention"/>
/// on device bytes and scales, contiguous or paged as the 16-bit rows.</summary>
internal sealed partial class GpuBench
{
    private BenchResult DispatchKeyValue8Bit<T>(BenchConfig config, int sets, Func<int, Func<int, double>, BenchResult> body)
        where T : unmanaged
    {
        if (backend is not CudaBackend cuda)
        {
            throw new NotSupportedException("8-bit K/V caches are read by the CUDA split-KV kernels only (KeyValue8BitAttention).");
        }

        var format = config.Shape.Kv == "int8" ? KeyValue8BitFormat.Int8 : KeyValue8BitFormat.Float8E4M3;
        var shape = config.AttentionShape;
        var options = new AttentionOptions { Causal = config.Causal ? CausalMask.TopLeft : CausalMask.None };
        var pages = Pages(config.Shape);
        long keyElements = pages is null ? shape.KeyElementCount : PagedElements(config.Shape, shape.HeadDim);
        long valueElements = pages is null ? shape.ValueElementCount : PagedElements(config.Shape, shape.ValueHeadDim);
        // int8: a scale per key ([B, Hkv, Lk], or the pool's [pages, PageSize, Hkv]); e4m3: a scale per (batch, KV head).
        long scaleCount = format == KeyValue8BitFormat.Float8E4M3 ? (long)shape.Batch * shape.KeyValueHeads
            : pages is null ? (long)shape.Batch * shape.KeyValueHeads * shape.KeyLength
            : keyElements / shape.HeadDim;
        var scaleStrides = format == KeyValue8BitFormat.Float8E4M3
            ? new TensorStrides(shape.KeyValueHeads, 1, 0)
            : new TensorStrides((long)shape.KeyValueHeads * shape.KeyLength, shape.KeyLength, 1);
        var random = new Random(config.Key.Length);
        var owned = new List<IDisposable>();
        try
        {
            var inputs = new (CudaTensor<T> Q, DeviceKeyValue8Bit Kv, CudaTensor<T> O)[sets];
            for (int i = 0; i < sets; i++)
            {
                var kv = new DeviceKeyValue8Bit(
                    format, Bytes(keyElements), Bytes(valueElements), Scales(scaleCount), Scales(scaleCount), scaleStrides);
                inputs[i] = (Filled(SweepData<T>.Operand(random, Math.Min(shape.QueryElementCount, PoolLength), 1f), shape.QueryElementCount),
                    kv, Owned(new CudaTensor<T>(cuda, shape.OutputElementCount)));
            }

            int next = 0;
            double Time(int calls)
            {
                using var start = cuda.Stream.RecordEvent();
                for (int c = 0; c < calls; c++)
                {
                    var (q, kv, o) = inputs[next];
                    if (pages is null)
                    {
                        KeyValue8BitAttention.Run(cuda, shape, q, kv, o, options);
                    }
                    else
                    {
                        KeyValue8BitAttention.RunPaged(cuda, shape, q, kv, pages, o, options);
                    }

                    next = (next + 1) % inputs.Length;
                }

                using var stop = cuda.Stream.RecordEvent();
                return stop.ElapsedMillisecondsSince(start) / calls;
            }

            var (partial, merge) = cuda.SplitKvKernels().For8Bit<T>(format);
            return body(sets, Time) with { Entry = $"{partial.Name}+{merge.Name}" };
        }
        finally
        {
            foreach (var tensor in owned)
            {
                tensor.Dispose();
            }
        }

        TTensor Owned<TTensor>(TTensor tensor)
            where TTensor : IDisposable
        {
            owned.Add(tensor);
            return tensor;
        }

        // Random bytes, no NaN code (e4m3's 0x7F and 0xFF), repeated past the pool.
        CudaTensor<byte> Bytes(long length)
        {
            var pool = new byte[Math.Min(length, PoolLength)];
            random.NextBytes(pool);
            for (int i = 0; i < pool.Length; i++)
            {
                pool[i] = (pool[i] & 0x7F) == 0x7F ? (byte)(pool[i] ^ 1) : pool[i];
            }

            return Filled(pool, length);
        }

        CudaTensor<float> Scales(long length) =>
            Filled(Enumerable.Range(0, (int)Math.Min(length, PoolLength)).Select(_ => (float)(random.NextDouble() / 64)).ToArray(), length);

        CudaTensor<TElement> Filled<TElement>(TElement[] pool, long length)
            where TElement : unmanaged => FillRepeating<CudaTensor<TElement>, TElement>(Owned(new CudaTensor<TElement>(cuda, length)), pool);
    }
}
