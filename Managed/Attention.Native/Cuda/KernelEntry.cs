using System.Runtime.ExceptionServices;
using Attention.Native.Cuda.Interop;

namespace Attention.Native.Cuda;

/// <summary>
/// One entry point of a loaded module, looked up on its own when the module loads: its kernel, or the failure of that
/// lookup, which every use rethrows. A missing or unusable entry (one head-dim bucket the driver rejects) then fails
/// only the calls that need it, not every kernel of the module.
/// </summary>
internal sealed class KernelEntry
{
    private readonly CudaKernel? kernel;
    private readonly ExceptionDispatchInfo? failure;

    private KernelEntry(string name, CudaKernel? kernel, ExceptionDispatchInfo? failure)
    {
        Name = name;
        this.kernel = kernel;
        this.failure = failure;
    }

    /// <summary>The entry point's name, e.g. <c>attention_mma_d128_bf16</c>.</summary>
    public string Name { get; }

    /// <summary>Why the entry could not be had, or null when it loaded.</summary>
    public Exception? Failure => failure?.SourceException;

    /// <summary>The kernel.</summary>
    /// <exception cref="CudaException">The lookup failed when the module loaded (that failure, rethrown).</exception>
    public CudaKernel Kernel
    {
        get
        {
            failure?.Throw();
            return kernel!;
        }
    }

    /// <summary>Looks <paramref name="name"/> up in <paramref name="module"/> (<see cref="CudaKernel.Get"/>), keeping a
    /// driver failure instead of throwing it.</summary>
    public static KernelEntry Get(CudaModuleHandle module, string name, CudaDeviceInfo device)
    {
        try
        {
            return new KernelEntry(name, CudaKernel.Get(module, name, device), null);
        }
        catch (CudaException e)
        {
            return new KernelEntry(name, null, ExceptionDispatchInfo.Capture(e));
        }
    }
}
