using Attention.Native.Cuda.Interop;
using Attention.Native.Validation;

namespace Attention.Native.Cuda.Simt;

/// <summary>
/// Prepares a validated attention problem for the SIMT kernel <c>attention_simt</c> (Native/attention_simt.cu): the
/// kernel for the element type and its launch (<see cref="AttentionSimtGeometry"/>). <see cref="CudaAttention.Launch"/>
/// queues it with the call's <see cref="AttentionParams{T}"/>.
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
}
