using System.Runtime.CompilerServices;
using Attention.Native.Cuda.Interop;
using Attention.Native.Validation;

namespace Attention.Native.Cuda;

/// <summary>
/// Runs a validated attention problem on the tensor-core kernel <c>attention_mma</c> (Native/attention_mma.cu), as
/// <see cref="CudaAttention"/> does on the SIMT kernel: check (<see cref="AttentionMmaGeometry.Supports"/>), pick the
/// head-dim bucket, upload what is still in host memory, queue the kernel. Nothing here waits for the GPU.
/// </summary>
internal static class CudaAttentionMma
{
    /// <summary>The kernel and launch for <paramref name="problem"/>; throws before anything is uploaded.</summary>
    /// <exception cref="NotSupportedException">The kernel cannot run the problem (the message names the option).</exception>
    /// <exception cref="InvalidOperationException">The PTX is not embedded in this build.</exception>
    /// <exception cref="CudaException">Loading the kernels failed.</exception>
    public static (CudaKernel Kernel, LaunchConfiguration Configuration) Prepare<T>(CudaBackend backend, AttentionProblem problem)
        where T : unmanaged
    {
        if (!AttentionMmaGeometry.Supports<T>(problem, out string? reason))
        {
            throw new NotSupportedException(reason);
        }

        var kernels = backend.AttentionMmaKernels(typeof(T));
        var bucket = AttentionMmaGeometry.TileFor(problem.HeadDim, problem.ValueHeadDim, typeof(T))!.Value;
        var limits = kernels.For<T>(bucket).Limits;
        var (tile, configuration) = AttentionMmaGeometry.Configure(problem, limits, backend.Stream.Handle, typeof(T));
        return (kernels.For<T>(tile), configuration);
    }

    /// <summary>Queues the kernel prepared by <see cref="Prepare"/> on device operands.</summary>
    /// <exception cref="NotSupportedException">q, k or v does not start 16-byte aligned, or o at a multiple of two
    /// elements' bytes (4 for Half and BFloat16, 8 for float).</exception>
    /// <exception cref="CudaException">An upload or the launch was rejected.</exception>
    public static void Launch<T>(
        CudaBackend backend,
        (CudaKernel Kernel, LaunchConfiguration Configuration) prepared,
        AttentionProblem problem,
        DevicePointer<T> query,
        DevicePointer<T> key,
        DevicePointer<T> value,
        DevicePointer<T> output,
        DevicePointer<float> logSumExp)
        where T : unmanaged
    {
        // The epilogue stores element pairs.
        uint pairBytes = 2 * (uint)Unsafe.SizeOf<T>();
        if ((query.Address | key.Address | value.Address) % 16 != 0 || output.Address % pairBytes != 0)
        {
            throw new NotSupportedException(
                $"The attention_mma kernel needs query, key and value to start 16-byte aligned and the output {pairBytes}-byte aligned.");
        }

        var p = problem;
        var mask = p.Mask;
        var bias = p.Bias;
        lock (backend.LaunchGate)
        {
            backend.EnterContext();
            var staged = backend.Scratch.Stage(p);

            // Every bucket's entry point has the same parameter list, so the d64 family's generated launcher packs the
            // arguments for whichever bucket's function was prepared.
            NativeKernels.AttentionMmaD64(
                prepared.Kernel.Function,
                in prepared.Configuration,
                query,
                key,
                value,
                output,
                logSumExp,
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
                p.Causal switch { CausalMask.TopLeft => 1, CausalMask.BottomRight => 2, _ => 0 },
                p.WindowLeft,
                p.WindowRight);
        }
    }
}
