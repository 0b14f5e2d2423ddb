using System.Diagnostics;
using Attention.Native.Cuda.Interop;

namespace Attention.Native.Cuda.Backward;

/// <summary>
/// The <c>attention_backward</c> module of one backend (Native/attention_backward.cu): the embedded PTX, JIT-compiled
/// once per backend, and its three kernels per element type — <c>attention_backward_prepare</c> (delta and the zeroed
/// dQ accumulator), <c>attention_backward_simt</c> (one CTA per key block) and <c>attention_backward_dq</c> (dQ
/// rounded to the element type) — each looked up once on its own (<see cref="KernelEntry"/>).
/// </summary>
internal sealed class AttentionBackwardKernels : IDisposable
{
    /// <summary>The embedded resource holding the PTX.</summary>
    public const string ResourceName = "ptx/attention_backward.ptx";

    private readonly CudaModuleHandle module;
    private readonly Dictionary<string, KernelEntry> entries;

    private AttentionBackwardKernels(CudaModuleHandle module, Dictionary<string, KernelEntry> entries)
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
    /// <exception cref="CudaException">The JIT failed (the message holds its log). A missing kernel fails only its
    /// own uses.</exception>
    public static AttentionBackwardKernels Load(PrimaryContextHandle context, CudaDeviceInfo device)
    {
        byte[] ptx = PtxResource.Read(ResourceName);
        var module = CudaModuleHandle.Load(context, ptx, ResourceName);
        string[] names =
        [
            KernelNames.AttentionBackwardPrepareF32Name, KernelNames.AttentionBackwardPrepareF16Name,
            KernelNames.AttentionBackwardPrepareBf16Name, KernelNames.AttentionBackwardSimtF32Name,
            KernelNames.AttentionBackwardSimtF16Name, KernelNames.AttentionBackwardSimtBf16Name,
            KernelNames.AttentionBackwardDqF32Name, KernelNames.AttentionBackwardDqF16Name,
            KernelNames.AttentionBackwardDqBf16Name,
        ];
        return new AttentionBackwardKernels(
            module, names.ToDictionary(n => n, n => KernelEntry.Get(module, n, device), StringComparer.Ordinal));
    }

    /// <summary>The three kernels for operand type <typeparamref name="T"/>, named by the generated lookups.</summary>
    /// <exception cref="NotSupportedException">No backward kernel takes <typeparamref name="T"/> (float, Half and BFloat16 do).</exception>
    /// <exception cref="CudaException">An entry could not be looked up when the module loaded.</exception>
    public (CudaKernel Prepare, CudaKernel Simt, CudaKernel Dq) For<T>()
        where T : unmanaged =>
        (Get(KernelNames.AttentionBackwardPrepareName<T>()), Get(KernelNames.AttentionBackwardSimtName<T>()),
            Get(KernelNames.AttentionBackwardDqName<T>()));

    public void Dispose() => module.Dispose();

    private CudaKernel Get(string name) => entries.TryGetValue(name, out var entry)
        ? entry.Kernel
        : throw new UnreachableException($"The generated kernel lookup named {name}, which is not loaded.");
}
