using Attention.Native.Cuda.Interop;
using Attention.Native.Validation;

namespace Attention.Native.Cuda.Backward;

/// <summary>
/// Runs a validated backward call on device operands: the three launches of the element type
/// (<see cref="AttentionBackwardGeometry"/>: prepare, the SIMT or mma kernel, dq), the bias gradient zeroed first (the kernel adds into it), the fp32
/// workspace (dQ accumulator and delta) from the backend's grow-only scratch, and the host-side mask, bias and key
/// lengths uploaded as the forward uploads them. Nothing here waits for the GPU.
/// </summary>
internal static class CudaAttentionBackward
{
    /// <summary>The kernels and launches for <paramref name="problem"/>; throws before anything is uploaded.</summary>
    /// <exception cref="NotSupportedException">The device cannot take the problem (the message names the option).</exception>
    /// <exception cref="InvalidOperationException">The PTX is not embedded in this build.</exception>
    /// <exception cref="CudaException">Loading the kernels failed.</exception>
    /// <remarks>The middle launch is <c>attention_backward_mma</c> where it takes the problem
    /// (<see cref="AttentionBackwardGeometry.MmaTakes"/>), else <c>attention_backward_simt</c>. A backend forced to a
    /// kernel (<see cref="CudaBackendOptions.Kernel"/>) gets that family: SIMT, or mma (which throws where it cannot run
    /// the problem); the backward has no split-KV form, so forcing split-KV throws.</remarks>
    public static PreparedBackward Prepare<T>(CudaBackend backend, AttentionBackwardProblem problem)
        where T : unmanaged
    {
        var p = problem.Forward;
        bool mmaTakes = AttentionBackwardGeometry.MmaTakes(p, typeof(T));
        bool useMma = backend.ForcedKernel switch
        {
            CudaAttentionKernel.Simt => false,
            CudaAttentionKernel.Mma => mmaTakes ? true : throw new NotSupportedException(
                $"The CUDA backend is forced to the mma kernel, and its backward (attention_backward_mma) takes only Half " +
                $"and BFloat16 operands with shape.HeadDim = shape.ValueHeadDim = 64 or 128; this call has {typeof(T).Name} " +
                $"operands, HeadDim {p.HeadDim}, ValueHeadDim {p.ValueHeadDim}."),
            CudaAttentionKernel.SplitKv => throw new NotSupportedException(
                "The CUDA backend is forced to the split-KV kernel, which has no backward; the backward runs on the SIMT or " +
                "mma kernels."),
            _ => mmaTakes,
        };
        var (prepare, simt, dq) = backend.BackwardKernels().For<T>();
        var (rows, keys) = AttentionBackwardGeometry.Configure(p, simt.Limits, backend.Stream.Handle);
        if (useMma)
        {
            var mma = backend.BackwardMmaKernels().For<T>(p.HeadDim);
            return new PreparedBackward(prepare, mma, dq, rows, AttentionBackwardGeometry.ConfigureMma(p, backend.Stream.Handle));
        }

        return new PreparedBackward(prepare, simt, dq, rows, keys);
    }

    /// <summary>Queues the backward prepared by <see cref="Prepare"/> on device operands.</summary>
    /// <exception cref="CudaException">An upload or a launch was rejected.</exception>
    public static void Launch<T>(CudaBackend backend, PreparedBackward prepared, AttentionBackwardProblem problem, BackwardPointers<T> operands)
        where T : unmanaged
    {
        var p = problem.Forward;
        lock (backend.LaunchGate)
        {
            backend.EnterContext();
            var staged = backend.Scratch.Stage(p);
            ulong workspace = backend.BackwardWorkspace.Reserve(AttentionBackwardGeometry.WorkspaceBytes(p));
            ulong delta = workspace + (ulong)(sizeof(float) * AttentionBackwardGeometry.RowCount(p) * p.HeadDim);
            if (problem.WantsBiasGrad)
            {
                var bias = p.Bias!;
                backend.Stream.Fill(
                    operands.BiasGrad.Address, 0, (nuint)((long)bias.Batch * bias.Heads * p.QueryLength * p.KeyLength * sizeof(float)));
            }

            if (problem.WantsSinksGrad)
            {
                backend.Stream.Fill(operands.SinksGrad.Address, 0, (nuint)(p.QueryHeads * sizeof(float)));
            }

            var parameters = new AttentionBackwardParams<T>
            {
                Q = operands.Query,
                K = operands.Key,
                V = operands.Value,
                O = operands.Output,
                DO = operands.OutputGrad,
                Lse = operands.LogSumExp,
                Dq = operands.QueryGrad,
                Dk = operands.KeyGrad,
                Dv = operands.ValueGrad,
                BiasGrad = problem.WantsBiasGrad ? operands.BiasGrad : DevicePointer<float>.Null,
                DqAccum = new DevicePointer<float>(workspace),
                Delta = new DevicePointer<float>(delta),
                Mask = p.Mask?.Tensor is { } maskTensor ? CudaTensor<bool>.PointerOf(maskTensor) : staged.Mask,
                Bias = p.Bias?.Tensor is { } biasTensor ? CudaTensor<float>.PointerOf(biasTensor) : staged.Bias,
                KeyLengths = staged.KeyLengths,
                Sinks = staged.Sinks,
                SinkGrad = problem.WantsSinksGrad ? operands.SinksGrad : DevicePointer<float>.Null,
                QStrideB = p.Query.Batch,
                QStrideH = p.Query.Head,
                QStrideS = p.Query.Sequence,
                KStrideB = p.Key.Batch,
                KStrideH = p.Key.Head,
                KStrideS = p.Key.Sequence,
                VStrideB = p.Value.Batch,
                VStrideH = p.Value.Head,
                VStrideS = p.Value.Sequence,
                OStrideB = p.Output.Batch,
                OStrideH = p.Output.Head,
                OStrideS = p.Output.Sequence,
                DoStrideB = p.Output.Batch,
                DoStrideH = p.Output.Head,
                DoStrideS = p.Output.Sequence,
                DqStrideB = p.Query.Batch,
                DqStrideH = p.Query.Head,
                DqStrideS = p.Query.Sequence,
                DkStrideB = p.Key.Batch,
                DkStrideH = p.Key.Head,
                DkStrideS = p.Key.Sequence,
                DvStrideB = p.Value.Batch,
                DvStrideH = p.Value.Head,
                DvStrideS = p.Value.Sequence,
                MaskStrideB = p.Mask is { } m ? p.MaskBatchStride(m.Heads, m.Batch) : 0,
                MaskStrideH = p.Mask is { } mh ? p.MaskHeadStride(mh.Heads) : 0,
                BiasStrideB = p.Bias is { } b ? p.MaskBatchStride(b.Heads, b.Batch) : 0,
                BiasStrideH = p.Bias is { } bh ? p.MaskHeadStride(bh.Heads) : 0,
                Batch = p.Batch,
                QHeads = p.QueryHeads,
                KvHeads = p.KeyValueHeads,
                QLen = p.QueryLength,
                KLen = p.KeyLength,
                HeadDim = p.HeadDim,
                ValueDim = p.ValueHeadDim,
                Scale = p.Scale,
                Softcap = p.Softcap,
                Causal = AttentionParams.Causal(p.Causal),
                WindowLeft = p.WindowLeft,
                WindowRight = p.WindowRight,
            };
            NativeKernels.Launch(prepared.Prepare, prepared.Rows, in parameters);
            NativeKernels.Launch(prepared.Middle, prepared.Keys, in parameters);
            NativeKernels.Launch(prepared.Dq, prepared.Rows, in parameters);
        }
    }
}

/// <summary>A backward call's kernels and launches, from <see cref="CudaAttentionBackward.Prepare"/>: prepare and dq
/// on <paramref name="Rows"/>, the middle kernel (<c>attention_backward_simt</c> or <c>_mma</c>) on
/// <paramref name="Keys"/>.</summary>
internal readonly record struct PreparedBackward(
    CudaKernel Prepare, CudaKernel Middle, CudaKernel Dq, LaunchConfiguration Rows, LaunchConfiguration Keys);

/// <summary>The device operands of a backward call; <see cref="BiasGrad"/>, <see cref="SinksGrad"/> null when not wanted.</summary>
internal readonly record struct BackwardPointers<T>(
    DevicePointer<T> Query,
    DevicePointer<T> Key,
    DevicePointer<T> Value,
    DevicePointer<T> Output,
    DevicePointer<float> LogSumExp,
    DevicePointer<T> OutputGrad,
    DevicePointer<T> QueryGrad,
    DevicePointer<T> KeyGrad,
    DevicePointer<T> ValueGrad,
    DevicePointer<float> BiasGrad,
    DevicePointer<float> SinksGrad)
    where T : unmanaged;
