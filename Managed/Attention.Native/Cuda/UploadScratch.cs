using Attention.Native.Cuda.Interop;
using Attention.Native.Validation;

namespace Attention.Native.Cuda;

/// <summary>
/// A backend's device buffer for the per-call uploads of a tensor call: a mask or bias given in host memory, the
/// key lengths, the sink logits, a varlen call's offsets and a paged call's block table. It is reused call after call without waiting: the uploads of a call are queued on the backend's
/// stream behind the previous call's kernel, which has then finished reading. It only grows (after a wait; see
/// <see cref="DeviceScratch"/>).
/// </summary>
/// <remarks>Callers hold the backend's launch lock from <see cref="Stage"/> until their kernel is queued.</remarks>
internal sealed class UploadScratch : IDisposable
{
    private const long Alignment = 256;

    private readonly CudaBackend backend;

    private readonly DeviceScratch buffer;

    public UploadScratch(CudaBackend backend)
    {
        this.backend = backend;
        buffer = new DeviceScratch(backend, 64 * 1024);
    }

    /// <summary>Device addresses of the host-side mask, bias, key lengths, sinks, varlen offsets and block table of
    /// <paramref name="problem"/>.</summary>
    /// <returns>Null pointers for what is absent or already on the device.</returns>
    public StagedUploads Stage(AttentionProblem problem)
    {
        long maskCount = HostCount(problem.Mask, problem);
        long biasCount = HostCount(problem.Bias, problem);
        long keyCount = problem.KeyLengths?.Length ?? 0;
        long sinkCount = problem.Sinks?.Length ?? 0;
        long offsetCount = problem.Varlen?.Query.Length ?? 0;
        long maskOffset = 0;
        long biasOffset = Align(maskOffset + maskCount);
        long keyOffset = Align(biasOffset + (biasCount * sizeof(float)));
        long sinkOffset = Align(keyOffset + (keyCount * sizeof(int)));
        long queryOffsetsOffset = Align(sinkOffset + (sinkCount * sizeof(float)));
        long keyOffsetsOffset = Align(queryOffsetsOffset + (offsetCount * sizeof(int)));
        long tableCount = problem.Paging?.BlockTable.Length ?? 0;
        long tableOffset = Align(keyOffsetsOffset + (offsetCount * sizeof(int)));
        long total = tableOffset + (tableCount * sizeof(int));
        if (total == 0)
        {
            return default;
        }

        ulong start = Reserve(total);
        return new(
            maskCount == 0 ? default : new(Upload(problem.Mask!.Memory[..(int)maskCount], start + (ulong)maskOffset)),
            biasCount == 0 ? default : new(Upload(problem.Bias!.Memory[..(int)biasCount], start + (ulong)biasOffset)),
            keyCount == 0 ? default : new(Upload<int>(problem.KeyLengths, start + (ulong)keyOffset)),
            sinkCount == 0 ? default : new(Upload<float>(problem.Sinks, start + (ulong)sinkOffset)),
            offsetCount == 0 ? default : new(Upload<int>(problem.Varlen!.Query, start + (ulong)queryOffsetsOffset)),
            offsetCount == 0 ? default : new(Upload<int>(problem.Varlen!.Key, start + (ulong)keyOffsetsOffset)),
            tableCount == 0 ? default : new(Upload<int>(problem.Paging!.BlockTable, start + (ulong)tableOffset)));
    }

    public void Dispose() => buffer.Dispose();

    /// <summary>Elements of <paramref name="scores"/> the kernel reads, when they are in host memory; else 0.</summary>
    private static long HostCount<T>(BroadcastScores<T>? scores, AttentionProblem problem)
        where T : unmanaged =>
        scores is { Tensor: null } ? (long)scores.Batch * scores.Heads * problem.QueryLength * problem.KeyLength : 0;

    private static long Align(long offset) => (offset + Alignment - 1) / Alignment * Alignment;

    private ulong Reserve(long bytes) => buffer.Reserve(bytes);

    private ulong Upload<T>(ReadOnlyMemory<T> values, ulong address)
        where T : unmanaged
    {
        backend.Stream.CopyToDevice(address, values);
        return address;
    }
}

/// <summary>Device addresses of a call's uploads (<see cref="UploadScratch.Stage"/>); null where absent.</summary>
/// <param name="Mask">The boolean mask.</param>
/// <param name="Bias">The additive bias.</param>
/// <param name="KeyLengths">The per-batch key lengths.</param>
/// <param name="Sinks">The per-query-head sink logits.</param>
/// <param name="QueryOffsets">A varlen call's <c>cu_seqlens_q</c>.</param>
/// <param name="KeyOffsets">A varlen call's <c>cu_seqlens_k</c>.</param>
/// <param name="BlockTable">A paged call's block table, <c>[B, PagesPerSequence]</c>.</param>
internal readonly record struct StagedUploads(
    DevicePointer<bool> Mask,
    DevicePointer<float> Bias,
    DevicePointer<int> KeyLengths,
    DevicePointer<float> Sinks,
    DevicePointer<int> QueryOffsets,
    DevicePointer<int> KeyOffsets,
    DevicePointer<int> BlockTable);
