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
            problem, typeof(T), partial.Limits, backend.Device.MultiprocessorCount, backend.Stream.Handle);
        return (partial, merge, launch);
    }

    /// <summary>
    /// Queues both launches with <paramref name="parameters"/> (from <see cref="AttentionParams.From"/>) and the
    /// backend's workspace; the caller holds the backend's launch lock and has staged the uploads.
    /// </summary>
    public static void Launch<T>(CudaBackend backend, PreparedAttention prepared, AttentionParams<T> parameters)
        where T : unmanaged
    {
        var launch = prepared.SplitKv;
        var workspace = launch.WorkspaceFloats == 0
            ? DevicePointer<float>.Null
            : new DevicePointer<float>(backend.SplitKvWorkspace.Reserve(launch.WorkspaceFloats * sizeof(float)));
        parameters.PartialO = workspace;
        parameters.PartialLse = workspace.IsNull ? workspace : workspace.Offset(launch.LseOffset);
        parameters.NumSplits = launch.Splits;
        NativeKernels.Launch(prepared.Function, launch.Partial, in parameters);
        if (launch.Splits > 1)
        {
            // The merge reads the partial pass's parameters: the workspace, the splits and O's layout.
            NativeKernels.Launch(prepared.Merge!, launch.Merge, in parameters);
        }
    }
}
