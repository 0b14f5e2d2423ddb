namespace Attention.Native.Cuda.Interop;

/// <summary>
/// The one place that calls <c>cuLaunchKernel</c>. The launches generated from the kernels' parameter structs
/// (<c>NativeKernels.Launch</c>) pass one argument, the struct's address, and call this.
/// </summary>
internal static unsafe class KernelLauncher
{
    /// <summary>Queues <paramref name="kernel"/> with <paramref name="arguments"/> on the configuration's stream.</summary>
    /// <param name="kernel">The kernel; its name goes into the exception.</param>
    /// <param name="configuration">Grid, block, dynamic shared memory and stream.</param>
    /// <param name="arguments">One pointer per kernel parameter, in order (null for a kernel without any).</param>
    /// <exception cref="CudaException">The launch was rejected (e.g. <c>CUDA_ERROR_INVALID_VALUE</c> for too many threads).
    /// Errors during execution surface at the next synchronisation.</exception>
    public static void Launch(CudaKernel kernel, in LaunchConfiguration configuration, void** arguments)
    {
        var c = configuration;
        var result = CudaDriver.cuLaunchKernel(
            kernel.Function, c.GridX, c.GridY, c.GridZ, c.BlockX, c.BlockY, c.BlockZ, c.SharedMemoryBytes, c.Stream, arguments, null);
        if (result != CudaResult.Success)
        {
            throw new CudaException((int)result, "cuLaunchKernel", $"(kernel {kernel.Name}, {c})");
        }
    }
}
