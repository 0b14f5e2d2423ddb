using Attention.Native.Cuda.Hopper;
using Attention.Native.Cuda.Interop;
using Attention.Native.Cuda.Mma;
using Attention.Native.Cuda.Simt;
using Attention.Native.Cuda.SplitKv;
using Attention.Native.Validation;

namespace Attention.Native.Cuda;

/// <summary>
/// Runs a validated attention problem on device operands: picks the kernel (<see cref="CudaKernelSelector"/>) and
/// its launch for the element type, checks the launch against the device (<see cref="AttentionSimtGeometry"/>,
/// <see cref="AttentionSplitKvGeometry"/>), uploads what is still in host memory (mask, bias, key lengths) and queues
/// the kernels on the backend's stream. Nothing here waits for the GPU.
/// </summary>
internal static class CudaAttention
{
    /// <summary>The kernel and launch for <paramref name="problem"/>; throws before anything is uploaded.</summary>
    /// <exception cref="NotSupportedException">The kernel cannot run the problem on this device, or a forced kernel
    /// cannot run it at all (the message names the option).</exception>
    /// <exception cref="InvalidOperationException">The PTX is not embedded in this build.</exception>
    /// <exception cref="CudaException">Loading the kernels failed.</exception>
    /// <param name="backend">The backend.</param>
    /// <param name="problem">The validated call.</param>
    /// <param name="operandsAligned">Whether the operands start where the mma kernel needs them
    /// (<see cref="MmaAttention.IsAligned"/>): whole tensors always do; views at element offsets may not.</param>
    public static PreparedAttention Prepare<T>(CudaBackend backend, AttentionProblem problem, bool operandsAligned = true)
        where T : unmanaged
    {
        var choice = CudaKernelSelector.Select(
            problem, backend.ForcedKernel, typeof(T), backend.AllowTensorFloat32, operandsAligned,
            AttentionHopperKernels.IsHopper(backend.Device));
        if (choice == CudaAttentionKernel.Hopper)
        {
            string? unavailable = HopperAttention.Unavailable<T>(backend, problem, out var hopper);
            if (unavailable is null)
            {
                return new PreparedAttention(choice, hopper.Kernel, hopper.Configuration, null, default);
            }

            if (backend.ForcedKernel == CudaAttentionKernel.Hopper)
            {
                throw new NotSupportedException(
                    $"{CudaKernelSelector.EnvironmentVariable}=hopper cannot run this call: {unavailable}");
            }

            // The default on a 9.0 device whose driver cannot load the sm_90a image: the next choice, with the reason
            // kept on the backend and told once in its SelectionReason (CudaBackend.NoteHopperFallback).
            backend.NoteHopperFallback(unavailable);
            choice = CudaKernelSelector.Select(
                problem, backend.ForcedKernel, typeof(T), backend.AllowTensorFloat32, operandsAligned, hopperDevice: false);
        }

        if (choice == CudaAttentionKernel.Mma)
        {
            var (function, configuration) = MmaAttention.Prepare<T>(backend, problem);
            return new PreparedAttention(choice, function, configuration, null, default);
        }

        if (choice == CudaAttentionKernel.SplitKv)
        {
            var (partial, merge, launch) = SplitKvAttention.Prepare<T>(backend, problem);
            return new PreparedAttention(choice, partial, launch.Partial, merge, launch);
        }

        var (kernel, simtConfiguration) = SimtAttention.Prepare<T>(backend, problem);
        return new PreparedAttention(choice, kernel, simtConfiguration, null, default);
    }

    /// <summary>Queues the kernels prepared by <see cref="Prepare"/> on device operands.</summary>
    /// <exception cref="NotSupportedException">The mma kernel was prepared and an operand does not start where
    /// its copies need it (<see cref="MmaAttention.EnsureAligned"/>).</exception>
    /// <exception cref="CudaException">An upload or a launch was rejected.</exception>
    public static void Launch<T>(
        CudaBackend backend,
        PreparedAttention prepared,
        AttentionProblem problem,
        DevicePointer<T> query,
        DevicePointer<T> key,
        DevicePointer<T> value,
        DevicePointer<T> output,
        DevicePointer<float> logSumExp,
        DevicePointer<float> probabilities)
        where T : unmanaged
    {
        if (prepared.Kernel == CudaAttentionKernel.Mma)
        {
            MmaAttention.EnsureAligned(query, key, value, output);
        }
        else if (prepared.Kernel == CudaAttentionKernel.Hopper)
        {
            HopperAttention.EnsureAligned(query, key, value, output);
        }

        var p = problem;
        var mask = p.Mask;
        var bias = p.Bias;
        lock (backend.LaunchGate)
        {
            backend.EnterContext();
            var staged = backend.Scratch.Stage(p);
            if (prepared.Kernel == CudaAttentionKernel.Hopper)
            {
                HopperAttention.Launch(prepared, p, query, key, value, output, logSumExp, staged.KeyLengths);
                return;
            }

            var parameters = AttentionParams.From(
                p,
                query,
                key,
                value,
                output,
                logSumExp,
                probabilities,
                mask?.Tensor is { } maskTensor ? CudaTensor<bool>.PointerOf(maskTensor) : staged.Mask,
                bias?.Tensor is { } biasTensor ? CudaTensor<float>.PointerOf(biasTensor) : staged.Bias,
                staged.KeyLengths,
                staged);
            if (prepared.Kernel == CudaAttentionKernel.SplitKv)
            {
                SplitKvAttention.Launch(backend, prepared, parameters);
            }
            else
            {
                NativeKernels.Launch(prepared.Function, prepared.Configuration, in parameters);
            }
        }
    }
}

/// <summary>A call's kernel and launch, from <see cref="CudaAttention.Prepare"/>.</summary>
/// <param name="Kernel">Which kernel runs.</param>
/// <param name="Function">The kernel launched first (SIMT, or split-KV's partial pass).</param>
/// <param name="Configuration">Its launch.</param>
/// <param name="Merge">Split-KV's merge kernel; null for SIMT.</param>
/// <param name="SplitKv">Split-KV's launches, splits and workspace; default for SIMT.</param>
internal readonly record struct PreparedAttention(
    CudaAttentionKernel Kernel, CudaKernel Function, LaunchConfiguration Configuration, CudaKernel? Merge, SplitKvLaunch SplitKv);
