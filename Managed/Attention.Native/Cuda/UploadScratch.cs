using Attention.Native.Cuda.Interop;
using Attention.Native.Validation;

namespace Attention.Native.Cuda;

/// <summary>
/// A backend's device buffer for the per-call uploads of a tensor call: a mask or bias given in host memory and the
/// key lengths. It is reused call after call without waiting: the uploads of a call are queued on the backend's
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

    /// <summary>Device addresses of the host-side mask, bias and key lengths of <paramref name="problem"/>.</summary>
    /// <returns>Null pointers for what is absent or already on the device.</returns>
    public (DevicePointer<bool> Mask, DevicePointer<float> Bias, DevicePointer<int> KeyLengths) Stage(AttentionProblem problem)
    {
        long maskCount = HostCount(problem.Mask, problem);
        long biasCount = HostCount(problem.Bias, problem);
        long keyCount = problem.KeyLengths?.Length ?? 0;
        long maskOffset = 0;
        long biasOffset = Align(maskOffset + maskCount);
        long keyOffset = Align(biasOffset + (biasCount * sizeof(float)));
        long total = keyOffset + (keyCount * sizeof(int));
        if (total == 0)
        {
            return default;
        }

        ulong start = Reserve(total);
        return (
            maskCount == 0 ? default : new(Upload(problem.Mask!.Memory[..(int)maskCount], start + (ulong)maskOffset)),
            biasCount == 0 ? default : new(Upload(problem.Bias!.Memory[..(int)biasCount], start + (ulong)biasOffset)),
            keyCount == 0 ? default : new(Upload<int>(problem.KeyLengths, start + (ulong)keyOffset)));
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
