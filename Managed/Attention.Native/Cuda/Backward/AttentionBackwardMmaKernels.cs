using Attention.Native.Cuda.Interop;

namespace Attention.Native.Cuda.Backward;

/// <summary>
/// The <c>attention_backward_mma</c> module of one backend (Native/attention_backward_mma.cu): the tensor-core middle
/// launch of the backward for Half and BFloat16 operands with <c>D = Dv</c> = 64 or 128, each entry looked up once on
/// its own (<see cref="KernelEntry"/>). A module of its own, so that a device that rejects it still runs the SIMT
/// backward.
/// </summary>
internal sealed class AttentionBackwardMmaKernels : IDisposable
{
    /// <summary>The embedded resource holding the PTX.</summary>
    public const string ResourceName = "ptx/attention_backward_mma.ptx";

    private readonly CudaModuleHandle module;
    private readonly Dictionary<string, KernelEntry> entries;

    private AttentionBackwardMmaKernels(CudaModuleHandle module, Dictionary<string, KernelEntry> entries)
    {
        this.module = module;
        this.entries = entries;
    }

    /// <summary>Every entry point, with its kernel or why it could not be had.</summary>
    public IReadOnlyList<KernelEntry> Entries => [.. entries.Values];

    /// <summary>The JIT's info log (registers, spills, shared memory per kernel).</summary>
    public string InfoLog => module.InfoLog;

    /// <summary>Loads the module into <paramref name="context"/>.</summary>
    /// <exception cref="InvalidOperationException">The PTX is not embedded in this build.</exception>
    /// <exception cref="CudaException">The JIT failed (the message holds its log).</exception>
    public static AttentionBackwardMmaKernels Load(PrimaryContextHandle context, CudaDeviceInfo device)
    {
        byte[] ptx = PtxResource.Read(ResourceName);
        var module = CudaModuleHandle.Load(context, ptx, ResourceName);
        string[] names =
        [
            KernelNames.AttentionBackwardMmaD64F16Name, KernelNames.AttentionBackwardMmaD64Bf16Name,
            KernelNames.AttentionBackwardMmaD128F16Name, KernelNames.AttentionBackwardMmaD128Bf16Name,
        ];
        return new AttentionBackwardMmaKernels(
            module, names.ToDictionary(n => n, n => KernelEntry.Get(module, n, device), StringComparer.Ordinal));
    }

    /// <summary>The kernel for operand type <typeparamref name="T"/> and head dim <paramref name="headDim"/> (64 or 128).</summary>
    /// <exception cref="NotSupportedException">No entry takes <typeparamref name="T"/> (Half and BFloat16 do).</exception>
    /// <exception cref="CudaException">The entry could not be looked up when the module loaded.</exception>
    public CudaKernel For<T>(int headDim)
        where T : unmanaged =>
        entries[headDim == 64 ? KernelNames.AttentionBackwardMmaD64Name<T>() : KernelNames.AttentionBackwardMmaD128Name<T>()].Kernel;

    public void Dispose() => module.Dispose();
}
