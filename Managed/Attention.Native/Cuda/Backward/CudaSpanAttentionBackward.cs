using Attention.Native.Validation;

namespace Attention.Native.Cuda.Backward;

/// <summary>
/// The backward's span overload on the GPU: copies the operands into temporary device buffers, runs the backward,
/// copies the gradients back and waits. A gradient with gaps between its rows (strided, not a contiguous layout) is
/// uploaded first, so the gaps come back as they were.
/// </summary>
internal static unsafe class CudaSpanAttentionBackward
{
    public static void Run<T>(
        CudaBackend backend,
        AttentionBackwardProblem problem,
        ReadOnlySpan<T> query,
        ReadOnlySpan<T> key,
        ReadOnlySpan<T> value,
        ReadOnlySpan<T> output,
        ReadOnlySpan<float> logSumExp,
        ReadOnlySpan<T> outputGrad,
        Span<T> queryGrad,
        Span<T> keyGrad,
        Span<T> valueGrad,
        Span<float> biasGrad,
        Span<float> sinksGrad)
        where T : unmanaged
    {
        var p = problem.Forward;
        var prepared = CudaAttentionBackward.Prepare<T>(backend, problem);
        long queryCount = p.Query.RequiredLength(p.Batch, p.QueryHeads, p.QueryLength, p.HeadDim);
        long keyCount = p.Key.RequiredLength(p.Batch, p.KeyValueHeads, p.KeyLength, p.HeadDim);
        long valueCount = p.Value.RequiredLength(p.Batch, p.KeyValueHeads, p.KeyLength, p.ValueHeadDim);
        long outputCount = p.Output.RequiredLength(p.Batch, p.QueryHeads, p.QueryLength, p.ValueHeadDim);
        long lseCount = p.Shape.LogSumExpElementCount;
        long biasGradCount = problem.WantsBiasGrad ? biasGrad.Length : 0;
        long sinksGradCount = problem.WantsSinksGrad ? sinksGrad.Length : 0;

        backend.EnterContext();
        using var staging = new DeviceStaging(backend);
        fixed (T* q = query)
        fixed (T* k = key)
        fixed (T* v = value)
        fixed (T* o = output)
        fixed (float* lse = logSumExp)
        fixed (T* dO = outputGrad)
        fixed (T* dQ = queryGrad)
        fixed (T* dK = keyGrad)
        fixed (T* dV = valueGrad)
        fixed (float* dBias = biasGrad)
        fixed (float* dSinks = sinksGrad)
        {
            try
            {
                var deviceQueryGrad = Gradient(staging, dQ, queryCount, IsDense(p.Query, p.QueryHeads, p.QueryLength, p.HeadDim));
                var deviceKeyGrad = Gradient(staging, dK, keyCount, IsDense(p.Key, p.KeyValueHeads, p.KeyLength, p.HeadDim));
                var deviceValueGrad = Gradient(
                    staging, dV, valueCount, IsDense(p.Value, p.KeyValueHeads, p.KeyLength, p.ValueHeadDim));
                var deviceBiasGrad = staging.Allocate<float>(biasGradCount);
                var deviceSinksGrad = staging.Allocate<float>(sinksGradCount);
                CudaAttentionBackward.Launch(backend, prepared, problem, new BackwardPointers<T>(
                    staging.Upload(q, queryCount), staging.Upload(k, keyCount), staging.Upload(v, valueCount),
                    staging.Upload(o, outputCount), staging.Upload(lse, lseCount), staging.Upload(dO, outputCount),
                    deviceQueryGrad, deviceKeyGrad, deviceValueGrad, deviceBiasGrad, deviceSinksGrad));
                staging.Download(deviceQueryGrad, dQ, queryCount);
                staging.Download(deviceKeyGrad, dK, keyCount);
                staging.Download(deviceValueGrad, dV, valueCount);
                staging.Download(deviceBiasGrad, dBias, biasGradCount);
                staging.Download(deviceSinksGrad, dSinks, sinksGradCount);
                backend.Stream.Synchronize();
            }
            catch
            {
                // Nothing queued may touch the spans once they are unpinned, nor the buffers once freed.
                backend.Stream.TrySynchronize();
                throw;
            }
        }
    }

    private static Interop.DevicePointer<T> Gradient<T>(DeviceStaging staging, T* host, long count, bool dense)
        where T : unmanaged => dense ? staging.Allocate<T>(count) : staging.Upload(host, count);

    /// <summary>Whether strides are a contiguous layout: the kernels then write every element they span.</summary>
    private static bool IsDense(TensorStrides strides, int heads, int length, int dim) =>
        strides == TensorStrides.Contiguous(AttentionLayout.Bhsd, heads, length, dim)
        || strides == TensorStrides.Contiguous(AttentionLayout.Bshd, heads, length, dim);
}
