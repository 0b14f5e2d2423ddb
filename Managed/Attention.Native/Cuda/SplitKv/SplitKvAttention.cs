using Attention.Native.Cuda.Interop;
using Attention.Native.Validation;

namespace Attention.Native.Cuda.SplitKv;

/// <summary>
/// Queues the split-KV kernels of a call: the partial pass over the key splits into the backend's workspace, then the
/// merge into O and lse (or, with one split, the partial pass writes them itself).
/// </summary>
internal static class SplitKvAttention
{
    /// <summary>The partial and merge kernels and their launches for <paramref name="problem"/>; throws before
    /// anything is uploaded.</summary>
    /// <exception cref="NotSupportedException">The device cannot take the problem (the message names the option).</exception>
    /// <exception cref="InvalidOperationException">The PTX is not embedded in this build.</exception>
    /// <exception cref="CudaException">Loading the kernels failed.</exception>
    public static (CudaKernel Partial, CudaKernel Merge, SplitKvLaunch Launch) Prepare<T>(CudaBackend backend, AttentionProblem problem)
        where T : unmanaged
    {
        var (partial, merge) = backend.SplitKvKernels().For<T>();
        var launch = AttentionSplitKvGeometry.Configure(
            problem, partial.Limits, backend.Device.MultiprocessorCount, backend.Stream.Handle);
        return (partial, merge, launch);
    }

    /// <summary>Queues both launches; the caller holds the backend's launch lock and has staged the uploads.</summary>
    public static void Launch<T>(
        CudaBackend backend,
        PreparedAttention prepared,
        AttentionProblem p,
        DevicePointer<T> query,
        DevicePointer<T> key,
        DevicePointer<T> value,
        DevicePointer<T> output,
        DevicePointer<float> logSumExp,
        DevicePointer<bool> mask,
        DevicePointer<float> bias,
        DevicePointer<int> keyLengths)
        where T : unmanaged
    {
        var launch = prepared.SplitKv;
        var workspace = launch.WorkspaceFloats == 0
            ? DevicePointer<float>.Null
            : new DevicePointer<float>(backend.SplitKvWorkspace.Reserve(launch.WorkspaceFloats * sizeof(float)));
        var partialLse = workspace.IsNull ? workspace : workspace.Offset(launch.LseOffset);
        NativeKernels.AttentionSplitkvPartial(
            prepared.Function.Function,
            launch.Partial,
            query,
            key,
            value,
            output,
            logSumExp,
            workspace,
            partialLse,
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
            launch.Splits,
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
        if (launch.Splits > 1)
        {
            NativeKernels.AttentionSplitkvMerge(
                prepared.Merge!.Function, launch.Merge, workspace, partialLse, output, logSumExp, p.Batch, p.QueryHeads,
                p.QueryLength, p.ValueHeadDim, launch.Splits, p.Output.Batch, p.Output.Head, p.Output.Sequence);
        }
    }
}
