namespace Attention.Native.Cuda.Interop;

/// <summary>
/// The one place that calls <c>cuLaunchKernel</c>: the launchers generated from the kernel signatures
/// (<c>NativeKernels</c>) build the argument array — one pointer per kernel parameter, each to a local holding the
/// value — and call this.
/// </summary>
internal static unsafe class KernelLauncher
{
    /// <summary>Queues <paramref name="function"/> with <paramref name="arguments"/> on the configuration's stream.</summary>
    /// <param name="function">The <c>CUfunction</c>.</param>
    /// <param name="configuration">Grid, block, dynamic shared memory and stream.</param>
    /// <param name="arguments">One pointer per kernel parameter, in order.</param>
    /// <param name="kernel">The kernel's name, for the exception.</param>
    /// <exception cref="CudaException">The launch was rejected (e.g. <c>CUDA_ERROR_INVALID_VALUE</c> for too many threads).
    /// Errors during execution surface at the next synchronisation.</exception>
    public static void Launch(nint function, in LaunchConfiguration configuration, void** arguments, string kernel)
    {
        var c = configuration;
        var result = CudaDriver.cuLaunchKernel(
            function, c.GridX, c.GridY, c.GridZ, c.BlockX, c.BlockY, c.BlockZ, c.SharedMemoryBytes, c.Stream, arguments, null);
        if (result != CudaResult.Success)
        {
            throw new CudaException((int)result, "cuLaunchKernel", $"(kernel {kernel}, {c})");
        }
    }
}
