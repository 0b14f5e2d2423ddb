using Attention.Native.Cuda.Additive;
using Attention.Native.Cuda.Interop;
using Attention.Native.Cuda.KeyValueCache;
using Attention.Native.Cuda.Mma;
using Attention.Native.Cuda.SplitKv;
using Attention.Native.Cuda;
using Attention.Native.Validation;

namespace Attention.Native.Layers;

/// <summary>
/// The layers' operations on a GPU, all queued on the backend's stream: cuBLAS projections (row-major through the
/// operand swap, <c>Yᵀ = W·Xᵀ</c> in cuBLAS's column-major terms), the bias as a rank-1 GEMM <c>Yᵀ = b·1ᵀ</c> that the
/// main GEMM then accumulates onto (<c>beta = 1</c>: no extra kernel), and the attention kernel on device views.
/// Half and BFloat16 layers keep every operand in that type and accumulate in fp32 (<c>CUBLAS_COMPUTE_32F</c>: tensor
/// cores, one rounding of each result).
/// </summary>
internal sealed unsafe class CudaLayerEngine<T>(CudaBackend backend, bool allowTensorFloat32) : LayerEngine<T>, IByteCacheEngine<T>
    where T : unmanaged
{
    private static readonly CudaDataType DataType =
        typeof(T) == typeof(float) ? CudaDataType.R32F : typeof(T) == typeof(Half) ? CudaDataType.R16F : CudaDataType.R16BF;

    private CublasHandle? cublas;
    private CudaTensor<T>? ones;
    private AdditiveAttentionLaunch? additive;
    private KeyValueCacheLaunch<T>? cacheKernels;

    public override void Linear(
        LayerOperand<T> x, int ldx, int rows, int inFeatures, LayerOperand<T> weight, LayerOperand<T>? bias, int outFeatures,
        LayerOperand<T> y, int ldy) =>
        LinearBatched(x, ldx, 0, rows, 1, inFeatures, weight, bias, outFeatures, y, ldy, 0);

    public override void LinearBatched(
        LayerOperand<T> x, int ldx, long batchStrideX, int rows, int batches, int inFeatures, LayerOperand<T> weight,
        LayerOperand<T>? bias, int outFeatures, LayerOperand<T> y, int ldy, long batchStrideY)
    {
        lock (backend.LaunchGate)
        {
            backend.EnterContext();
            var handle = Handle();
            float one = 1f, zero = 0f;
            float beta = 0f;
            if (bias is { } b)
            {
                // Every block's Yᵀ = b·1ᵀ: the same two operands (stride 0), each block its own C.
                var unit = Ones(rows);
                Gemm(handle, CublasOperation.None, CublasOperation.None, outFeatures, rows, 1, &one, Address(b),
                    outFeatures, 0, CudaTensor<T>.PointerOf(unit).Address, 1, 0, &zero, Address(y), ldy, batchStrideY,
                    batches);
                beta = 1f;
            }

            Gemm(handle, CublasOperation.Transpose, CublasOperation.None, outFeatures, rows, inFeatures, &one,
                Address(weight), inFeatures, 0, Address(x), ldx, batchStrideX, &beta, Address(y), ldy, batchStrideY, batches);
        }
    }

    public override void Attention(
        AttentionShape shape, AttentionOptions options, LayerOperand<T> query, LayerOperand<T> key, LayerOperand<T> value,
        LayerOperand<T> output, LayerOperand<float>? probabilities)
    {
        var problem = AttentionValidator.Validate(shape, options, new(
            query.Length, key.Length, value.Length, output.Length, -1, probabilities?.Length ?? -1));
        var (q, k, v, o) = (Pointer(query), Pointer(key), Pointer(value), Pointer(output));
        // K and V are views at element offsets into the packed projection rows, which need not start where the
        // mma kernel's 16-byte copies need them: such calls go to a kernel without that need.
        var prepared = CudaAttention.Prepare<T>(backend, problem, MmaAttention.IsAligned(q, k, v, o));
        CudaAttention.Launch(
            backend, prepared, problem, q, k, v, o,
            DevicePointer<float>.Null, probabilities is { } p ? Pointer(p) : DevicePointer<float>.Null);
    }

    public override void PagedAttention(
        AttentionShape shape, AttentionOptions options, LayerOperand<T> query, AttentionTensor<T> keyPages,
        AttentionTensor<T> valuePages, PagedKeyValueLayout pages, LayerOperand<T> output)
    {
        var problem = PagedAttentionValidator.Validate(shape, options, pages, new(
            query.Length, keyPages.Length, valuePages.Length, output.Length, -1));
        var (q, o) = (Pointer(query), Pointer(output));
        var (k, v) = (CudaTensor<T>.PointerOf(keyPages), CudaTensor<T>.PointerOf(valuePages));
        // The query and output are views into the packed projection rows (see Attention); the launch uploads the
        // block table with the call's other host operands.
        var prepared = CudaAttention.Prepare<T>(backend, problem, MmaAttention.IsAligned(q, k, v, o));
        CudaAttention.Launch(backend, prepared, problem, q, k, v, o, DevicePointer<float>.Null, DevicePointer<float>.Null);
    }

    public override void AppendPoolRows(
        LayerOperand<T> rows, int rowStride, ReadOnlySpan<long> positions, AttentionTensor<T> pool, int heads, int dim,
        int pageSize, bool headMajor)
    {
        // HeadMajorPages is false on this backend: its pools are [PageCount, PageSize, Hkv, D] and headMajor is false.
        lock (backend.LaunchGate)
        {
            backend.EnterContext();
            cacheKernels ??= new KeyValueCacheLaunch<T>(backend);
            cacheKernels.Append(Pointer(rows), rowStride, CudaTensor<T>.PointerOf(pool), heads, dim, CachePositions.List(positions.ToArray()));
        }
    }

    public override void CheckAttention(AttentionShape shape, AttentionOptions options, bool wantsProbabilities) =>
        CudaAttention.Prepare<T>(backend, Validate(shape, options, wantsProbabilities));

    public override void Additive(
        in AdditiveAttentionProblem problem, LayerOperand<float> queries, LayerOperand<float> keys,
        LayerOperand<float> scoreVector, LayerOperand<float> values, LayerOperand<float> output, LayerOperand<float>? probabilities)
    {
        additive ??= new AdditiveAttentionLaunch(backend);
        additive.Launch(
            problem, Pointer(queries), Pointer(keys), Pointer(scoreVector), Pointer(values), Pointer(output),
            probabilities is { } p ? Pointer(p) : DevicePointer<float>.Null);
    }

    public override void Copy(LayerOperand<T> source, LayerOperand<T> destination, long count)
    {
        lock (backend.LaunchGate)
        {
            backend.EnterContext();
            backend.Stream.CopyOnDevice(Address(destination), Address(source), (nuint)count * (nuint)sizeof(T));
        }
    }

    public override void Synchronize() => backend.Synchronize();

    public ByteCacheRows CreateByteRows(KeyValue8BitFormat format, int batch, int capacity, int heads, int keyDim, int valueDim) =>
        new(format, batch, capacity, heads, keyDim, valueDim, backend);

    public void AppendBytes(LayerOperand<T> keys, LayerOperand<T> values, int tokens, ByteCacheRows cache, int start) =>
        QuantizeBytes(keys, cache.KeyRow, values, cache.ValueRow, cache, CachePositions.Runs(cache.Batch, tokens, cache.Capacity, start));

    public void AppendByteRows(LayerOperand<T> keys, LayerOperand<T> values, int rowStride, ReadOnlySpan<long> positions, ByteCacheRows pool) =>
        QuantizeBytes(keys, rowStride, values, rowStride, pool, CachePositions.List(positions.ToArray()));

    // The 8-bit split-KV kernels read the 8-bit rows as they are (Half and BFloat16 layers, up to their query count);
    // any other step reads the positions it attends over dequantised on the GPU (DequantizeBytes, DequantizeBytePages).
    public AttentionProblem? TakesBytes(AttentionShape shape, AttentionOptions options, bool wantsProbabilities) =>
        !wantsProbabilities && Validate(shape, options, false) is var problem
        && KeyValue8BitAttention.Unsupported(backend, problem, typeof(T)) is null ? problem : null;

    public void AttentionBytes(AttentionProblem problem, LayerOperand<T> query, ByteCacheRows cache, LayerOperand<T> output) =>
        KeyValue8BitAttention.Launch(
            backend, problem, Pointer(query), Addresses(cache), cache.ScaleStrides, Pointer(output), DevicePointer<float>.Null);

    public bool TryPagedAttentionBytes(
        AttentionShape shape, AttentionOptions options, LayerOperand<T> query, ByteCacheRows pool, PagedKeyValueLayout pages,
        LayerOperand<T> output)
    {
        var problem = PagedAttentionValidator.Validate(shape, options, pages, new(
            query.Length, (long)pool.Batch * pool.Capacity * pool.KeyRow, (long)pool.Batch * pool.Capacity * pool.ValueRow, output.Length, -1));
        if (KeyValue8BitAttention.Unsupported(backend, problem, typeof(T)) is not null)
        {
            return false;
        }

        // An int8 pool's scales are pages of their own, [PageCount, PageSize, Hkv], as its bytes are; e4m3's one a head.
        var scaleStrides = pool.Format == KeyValue8BitFormat.Int8 ? PagedAttentionValidator.PageStrides(pages, pool.Heads, 1) : pool.ScaleStrides;
        KeyValue8BitAttention.Launch(
            backend, problem, Pointer(query), Addresses(pool), scaleStrides, Pointer(output), DevicePointer<float>.Null);
        return true;
    }

    public void DequantizeBytes(ByteCacheRows cache, int length, LayerOperand<T> keys, LayerOperand<T> values) =>
        DequantizeBytes(cache, CachePositions.Runs(cache.Batch, length, cache.Capacity, 0), keys, values);

    public void DequantizeBytePages(ByteCacheRows pool, ReadOnlySpan<int> pages, LayerOperand<T> keys, LayerOperand<T> values)
    {
        // The pool is PageCount sequences of PageSize (its Capacity) positions: the pages' slots, in order.
        var listed = new long[pages.Length];
        for (int i = 0; i < pages.Length; i++)
        {
            listed[i] = pages[i];
        }

        DequantizeBytes(pool, CachePositions.Pages(listed, pool.Capacity), keys, values);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            cublas?.Dispose();
            ones?.Dispose();
            additive?.Dispose();
            cacheKernels?.Dispose();
        }
    }

    private void QuantizeBytes(
        LayerOperand<T> keys, long keyStride, LayerOperand<T> values, long valueStride, ByteCacheRows cache, CachePositions at)
    {
        if (cache.Format == KeyValue8BitFormat.Float8E4M3 && !cache.HasScales)
        {
            cache.SetScales(
                FirstScales(keys, keyStride, at.RowCount, cache.Heads, cache.KeyDim),
                FirstScales(values, valueStride, at.RowCount, cache.Heads, cache.ValueDim));
        }

        lock (backend.LaunchGate)
        {
            backend.EnterContext();
            cacheKernels ??= new KeyValueCacheLaunch<T>(backend);
            cacheKernels.Quantize(Pointer(keys), keyStride, cache.DeviceKeys, at);
            cacheKernels.Quantize(Pointer(values), valueStride, cache.DeviceValues, at);
        }
    }

    private void DequantizeBytes(ByteCacheRows cache, CachePositions at, LayerOperand<T> keys, LayerOperand<T> values)
    {
        lock (backend.LaunchGate)
        {
            backend.EnterContext();
            cacheKernels ??= new KeyValueCacheLaunch<T>(backend);
            cacheKernels.Dequantize(cache.DeviceKeys, at, Pointer(keys), cache.KeyRow);
            cacheKernels.Dequantize(cache.DeviceValues, at, Pointer(values), cache.ValueRow);
        }
    }

    /// <summary>
    /// Each head's scale from the first rows an e4m3 cache takes (<see cref="Cpu.Decode.Float8E4M3Quantizer.ScaleOf"/>):
    /// the rows copied to the host once, the cache's only wait on the stream.
    /// </summary>
    private float[] FirstScales(LayerOperand<T> rows, long rowStride, int count, int heads, int dim)
    {
        int row = heads * dim;
        var host = new T[checked(((count - 1) * rowStride) + row)];
        lock (backend.LaunchGate)
        {
            backend.EnterContext();
            backend.Stream.CopyToHost<T>(host, Address(rows));
        }

        backend.Synchronize();
        var wide = new float[row];
        var max = new float[heads];
        for (int i = 0; i < count; i++)
        {
            ElementType.Widen(Cpu.CpuKernelVariant.Scalar, host.AsSpan((int)(i * rowStride), row), wide);
            fixed (float* first = wide)
            {
                Cpu.Decode.Float8E4M3Quantizer.FoldHeadMaxima(first, heads, dim, max);
            }
        }

        return Array.ConvertAll(max, Cpu.Decode.Float8E4M3Quantizer.ScaleOf);
    }

    private static DeviceKeyValue8BitAddresses Addresses(ByteCacheRows cache) =>
        new(cache.Format, cache.DeviceKeys.Bytes.Address, cache.DeviceValues.Bytes.Address,
            cache.DeviceKeys.Scales.Address, cache.DeviceValues.Scales.Address);

    private static DevicePointer<TElement> Pointer<TElement>(LayerOperand<TElement> operand)
        where TElement : unmanaged =>
        CudaTensor<TElement>.PointerOf(operand.Tensor).Offset(operand.Offset);

    private static ulong Address<TElement>(LayerOperand<TElement> operand)
        where TElement : unmanaged => Pointer(operand).Address;

    private CublasHandle Handle()
    {
        if (cublas is null)
        {
            cublas = CublasHandle.Create(backend.Context, backend.Stream.Handle);
            // TF32 only when asked for: the fp32 default is held to 1e-5 against the float64 reference.
            CudaErrors.Check(
                Cublas.cublasSetMathMode(cublas.Value, allowTensorFloat32 ? CublasMath.Tf32TensorOp : CublasMath.Default),
                "cublasSetMathMode");
        }

        return cublas;
    }

    /// <summary>A device vector of at least <paramref name="count"/> ones (the rank-1 bias GEMM's right operand).</summary>
    private CudaTensor<T> Ones(int count)
    {
        if (ones is null || ones.Length < count)
        {
            backend.Synchronize();
            ones?.Dispose();
            var host = new T[Math.Max(count, 256)];
            Array.Fill(host, ElementType.FromSingle<T>(1f));
            ones = (CudaTensor<T>)backend.Upload<T>(host);
        }

        return ones;
    }

    // TF32 applies to float operands only; Half and BFloat16 ones run on the tensor cores with fp32 accumulation anyway.
    private CublasComputeType ComputeType =>
        allowTensorFloat32 && typeof(T) == typeof(float) ? CublasComputeType.Compute32FFastTf32 : CublasComputeType.Compute32F;

    /// <summary>One GEMM (<c>GemmEx</c>) or <paramref name="batches"/> equally spaced ones (<c>GemmStridedBatchedEx</c>).</summary>
    private void Gemm(
        CublasHandle handle, CublasOperation transposeA, CublasOperation transposeB, int m, int n, int k, float* alpha,
        ulong a, int lda, long strideA, ulong b, int ldb, long strideB, float* beta, ulong c, int ldc, long strideC, int batches)
    {
        if (batches == 1)
        {
            CudaErrors.Check(
                Cublas.cublasGemmEx(
                    handle.Value, transposeA, transposeB, m, n, k, alpha, a, DataType, lda, b, DataType,
                    ldb, beta, c, DataType, ldc, ComputeType, CublasGemmAlgorithm.Default),
                "cublasGemmEx");
            return;
        }

        CudaErrors.Check(
            Cublas.cublasGemmStridedBatchedEx(
                handle.Value, transposeA, transposeB, m, n, k, alpha, a, DataType, lda, strideA, b,
                DataType, ldb, strideB, beta, c, DataType, ldc, strideC, batches, ComputeType,
                CublasGemmAlgorithm.Default),
            "cublasGemmStridedBatchedEx");
    }
}
