using Attention.Native.Cuda.Interop;
using Attention.Native.Validation;

namespace Attention.Native.Cuda.Simt;

/// <summary>
/// Runs a validated attention problem on the SIMT kernel <c>attention_simt</c> (Native/attention_simt.cu): its launch
/// (<see cref="AttentionSimtGeometry"/>) and the queued kernel. Nothing here waits for the GPU.
/// </summary>
internal static class SimtAttention
{
    /// <summary>The kernel and launch for <paramref name="problem"/>; throws before anything is uploaded.</summary>
    /// <exception cref="NotSupportedException">The device cannot take the problem (the message names the option).</exception>
    /// <exception cref="InvalidOperationException">The PTX is not embedded in this build.</exception>
    /// <exception cref="CudaException">Loading the kernels failed.</exception>
    public static (CudaKernel Kernel, LaunchConfiguration Configuration) Prepare<T>(CudaBackend backend, AttentionProblem problem)
        where T : unmanaged
    {
        var kernel = backend.AttentionKernels().For<T>();
        return (kernel, AttentionSimtGeometry.Configure(problem, kernel.Limits, backend.Stream.Handle));
    }

    /// <summary>
    /// Queues the kernel prepared by <see cref="Prepare"/>; the caller (<see cref="CudaAttention.Launch"/>) holds the
    /// backend's launch lock and has staged the uploads.
    /// </summary>
    public static void Launch<T>(
        PreparedAttention prepared,
        AttentionProblem p,
        DevicePointer<T> query,
        DevicePointer<T> key,
        DevicePointer<T> value,
        DevicePointer<T> output,
        DevicePointer<float> logSumExp,
        DevicePointer<float> probabilities,
        DevicePointer<bool> mask,
        DevicePointer<float> bias,
        DevicePointer<int> keyLengths)
        where T : unmanaged
    {
        NativeKernels.AttentionSimt(
            prepared.Function.Function,
            prepared.Configuration,
            query,
            key,
            value,
            output,
            logSumExp,
            probabilities,
            mask,
            bias,
            keyLengths,
            p.Batch,
            p.QueryHeads,
            p.KeyValueHeads,
            p.QueryLength,
            p.KeyLength,
            p.HeadDim,
            p.ValueHeadDim,
            p.Query.Batch,
            p.Query.Head,
            p.Query.Sequence,
            p.Key.Batch,
            p.Key.Head,
            p.Key.Sequence,
            p.Value.Batch,
            p.Value.Head,
            p.Value.Sequence,
            p.Output.Batch,
            p.Output.Head,
            p.Output.Sequence,
            p.Mask is { } m ? p.MaskBatchStride(m.Heads, m.Batch) : 0,
            p.Mask is { } mh ? p.MaskHeadStride(mh.Heads) : 0,
            p.Bias is { } b ? p.MaskBatchStride(b.Heads, b.Batch) : 0,
            p.Bias is { } bh ? p.MaskHeadStride(bh.Heads) : 0,
            p.Scale,
            p.Softcap,
            CudaAttention.Causal(p.Causal),
            p.WindowLeft,
            p.WindowRight);
    }
}
