using Attention.Native.Validation;

namespace Attention.Native.Cuda;

/// <summary>
/// The span overload on the GPU: copies the operands into temporary device buffers, runs the kernel, copies the
/// outputs back and waits. Only the elements the strides reach are copied (of a paged call's K and V pages, the whole
/// pool: the block table reaches any page); an output with gaps between its rows is uploaded first, so the gaps come
/// back as they were.
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
        var (queryCount, keyCount, valueCount, outputCount, lseCount) = p.Varlen is { } varlen
            ? PackedCounts(p, varlen)
            : (p.Query.RequiredLength(p.Batch, p.QueryHeads, p.QueryLength, p.HeadDim),
                p.Paging is null ? p.Key.RequiredLength(p.Batch, p.KeyValueHeads, p.KeyLength, p.HeadDim) : key.Length,
                p.Paging is null ? p.Value.RequiredLength(p.Batch, p.KeyValueHeads, p.KeyLength, p.ValueHeadDim) : value.Length,
                p.Output.RequiredLength(p.Batch, p.QueryHeads, p.QueryLength, p.ValueHeadDim),
                p.WantsLogSumExp ? p.Shape.LogSumExpElementCount : 0);
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
                // A varlen call from a row past 0 leaves the log-sum-exp of the rows before it as they were.
                var deviceLse = p.Varlen is { Query: [> 0, ..] } ? staging.Upload(lse, lseCount) : staging.Allocate<float>(lseCount);
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

    /// <summary>
    /// The elements a varlen call's packed operands span, from row 0 to the last sequence's end (the rows before
    /// <c>cu_seqlens[0]</c> are copied too, so that the kernels' offsets stay the caller's), and its <c>[Hq, total_q]</c>
    /// log-sum-exp.
    /// </summary>
    private static (long Query, long Key, long Value, long Output, long LogSumExp) PackedCounts(
        AttentionProblem p, VarlenOffsets varlen) =>
        ((long)varlen.TotalQuery * p.QueryHeads * p.HeadDim,
            (long)varlen.TotalKey * p.KeyValueHeads * p.HeadDim,
            (long)varlen.TotalKey * p.KeyValueHeads * p.ValueHeadDim,
            (long)varlen.TotalQuery * p.QueryHeads * p.ValueHeadDim,
            p.WantsLogSumExp ? (long)varlen.TotalQuery * p.QueryHeads : 0);

    /// <summary>Whether the output strides are a contiguous layout: the kernel then writes every element it spans
    /// (every packed row, in a varlen call: each sequence's rows, and the rows before the first are uploaded).</summary>
    private static bool IsDense(AttentionProblem p) => p.Varlen is { Query: [0, ..] } ||
        p.Output == TensorStrides.Contiguous(AttentionLayout.Bhsd, p.QueryHeads, p.QueryLength, p.ValueHeadDim)
        || p.Output == TensorStrides.Contiguous(AttentionLayout.Bshd, p.QueryHeads, p.QueryLength, p.ValueHeadDim);
}
