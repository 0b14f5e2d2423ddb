using Attention.Native.Cuda.Interop;
using Attention.Native.Validation;

namespace Attention.Native.Cuda;

/// <summary>
/// Runs a validated attention problem on device operands: picks the kernel for the element type, checks the launch
/// against the device (<see cref="AttentionSimtGeometry"/>), uploads what is still in host memory (mask, bias, key
/// lengths) and queues the kernel on the backend's stream. Nothing here waits for the GPU.
/// </summary>
internal static class CudaAttention
{
    /// <summary>The kernel and launch for <paramref name="problem"/>; throws before anything is uploaded.</summary>
    /// <exception cref="NotSupportedException">The kernel cannot run the problem on this device (the message names the option).</exception>
    /// <exception cref="InvalidOperationException">The PTX is not embedded in this build.</exception>
    /// <exception cref="CudaException">Loading the kernels failed.</exception>
    public static (CudaKernel Kernel, LaunchConfiguration Configuration) Prepare<T>(CudaBackend backend, AttentionProblem problem)
        where T : unmanaged
    {
        var kernel = backend.AttentionKernels().For<T>();
        return (kernel, AttentionSimtGeometry.Configure(problem, kernel.Limits, backend.Stream.Handle));
    }

    /// <summary>Queues the kernel prepared by <see cref="Prepare"/> on device operands.</summary>
    /// <exception cref="CudaException">An upload or the launch was rejected.</exception>
    public static void Launch<T>(
        CudaBackend backend,
        (CudaKernel Kernel, LaunchConfiguration Configuration) prepared,
        AttentionProblem problem,
        DevicePointer<T> query,
        DevicePointer<T> key,
        DevicePointer<T> value,
        DevicePointer<T> output,
        DevicePointer<float> logSumExp,
        DevicePointer<float> probabilities)
        where T : unmanaged
    {
        var p = problem;
        var mask = p.Mask;
        var bias = p.Bias;
        lock (backend.LaunchGate)
        {
            backend.EnterContext();
            var staged = backend.Scratch.Stage(p);
            NativeKernels.AttentionSimt(
                prepared.Kernel.Function,
                in prepared.Configuration,
                query,
                key,
                value,
                output,
                logSumExp,
                probabilities,
                mask?.Tensor is { } maskTensor ? CudaTensor<bool>.PointerOf(maskTensor) : staged.Mask,
                bias?.Tensor is { } biasTensor ? CudaTensor<float>.PointerOf(biasTensor) : staged.Bias,
                staged.KeyLengths,
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
                mask is null ? 0 : p.MaskBatchStride(mask.Heads, mask.Batch),
                mask is null ? 0 : p.MaskHeadStride(mask.Heads),
                bias is null ? 0 : p.MaskBatchStride(bias.Heads, bias.Batch),
                bias is null ? 0 : p.MaskHeadStride(bias.Heads),
                p.Scale,
                p.Softcap,
                Causal(p.Causal),
                p.WindowLeft,
                p.WindowRight);
        }
    }

    /// <summary>The kernel's causal code: 0 none, 1 top-left, 2 bottom-right.</summary>
    private static int Causal(CausalMask causal) => causal switch
    {
        CausalMask.TopLeft => 1,
        CausalMask.BottomRight => 2,
        _ => 0,
    };
}
