using Attention.Native.Validation;

namespace Attention.Native.Cuda;

/// <summary>
/// The span overload on the GPU: copies the operands into temporary device buffers, runs the kernel, copies the
/// outputs back and waits. Only the elements the strides reach are copied; an output with gaps between its rows is
/// uploaded first, so the gaps come back as they were.
/// </summary>
internal static unsafe class CudaSpanAttention
{
    public static void Run<T>(
        CudaBackend backend,
        AttentionProblem problem,
        ReadOnlySpan<T> query,
        ReadOnlySpan<T> key,
        ReadOnlySpan<T> value,
        Span<T> output,
        Span<float> logSumExp,
        Span<float> probabilities)
        where T : unmanaged
    {
        var p = problem;
        var prepared = CudaAttention.Prepare<T>(backend, p);
        long queryCount = p.Query.RequiredLength(p.Batch, p.QueryHeads, p.QueryLength, p.HeadDim);
        long keyCount = p.Key.RequiredLength(p.Batch, p.KeyValueHeads, p.KeyLength, p.HeadDim);
        long valueCount = p.Value.RequiredLength(p.Batch, p.KeyValueHeads, p.KeyLength, p.ValueHeadDim);
        long outputCount = p.Output.RequiredLength(p.Batch, p.QueryHeads, p.QueryLength, p.ValueHeadDim);
        long lseCount = p.WantsLogSumExp ? p.Shape.LogSumExpElementCount : 0;
        long probabilitiesCount = p.WantsProbabilities ? p.Shape.ProbabilitiesElementCount : 0;

        backend.EnterContext();
        using var staging = new DeviceStaging(backend);
        fixed (T* q = query)
        fixed (T* k = key)
        fixed (T* v = value)
        fixed (T* o = output)
        fixed (float* lse = logSumExp)
        fixed (float* probs = probabilities)
        {
            try
            {
                var deviceOutput = IsDense(p) ? staging.Allocate<T>(outputCount) : staging.Upload(o, outputCount);
                var deviceLse = staging.Allocate<float>(lseCount);
                var deviceProbabilities = staging.Allocate<float>(probabilitiesCount);
                CudaAttention.Launch(
                    backend, prepared, p, staging.Upload(q, queryCount), staging.Upload(k, keyCount),
                    staging.Upload(v, valueCount), deviceOutput, deviceLse, deviceProbabilities);
                staging.Download(deviceOutput, o, outputCount);
                staging.Download(deviceLse, lse, lseCount);
                staging.Download(deviceProbabilities, probs, probabilitiesCount);
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

    /// <summary>Whether the output strides are a contiguous layout: the kernel then writes every element it spans.</summary>
    private static bool IsDense(AttentionProblem p) =>
        p.Output == TensorStrides.Contiguous(AttentionLayout.Bhsd, p.QueryHeads, p.QueryLength, p.ValueHeadDim)
        || p.Output == TensorStrides.Contiguous(AttentionLayout.Bshd, p.QueryHeads, p.QueryLength, p.ValueHeadDim);
}
