using System.Diagnostics;
using Attention.Native.Cuda.Interop;

namespace Attention.Native.Cuda.Simt;

/// <summary>
/// The <c>attention_simt</c> module of one backend: the embedded PTX, JIT-compiled once per backend, and its three
/// kernels (<c>attention_simt_f32</c>, <c>_f16</c>, <c>_bf16</c>), each looked up once on its own (<see cref="KernelEntry"/>).
/// </summary>
internal sealed class AttentionSimtKernels : IDisposable
{
    /// <summary>The embedded resource holding the PTX.</summary>
    public const string ResourceName = "ptx/attention_simt.ptx";

    private readonly CudaModuleHandle module;
    private readonly KernelEntry f32;
    private readonly KernelEntry f16;
    private readonly KernelEntry bf16;

    private AttentionSimtKernels(CudaModuleHandle module, KernelEntry f32, KernelEntry f16, KernelEntry bf16)
    {
        this.module = module;
        this.f32 = f32;
        this.f16 = f16;
        this.bf16 = bf16;
    }

    /// <exception cref="CudaException">This entry could not be looked up.</exception>
    public CudaKernel F32 => f32.Kernel;

    /// <exception cref="CudaException">This entry could not be looked up.</exception>
    public CudaKernel F16 => f16.Kernel;

    /// <exception cref="CudaException">This entry could not be looked up.</exception>
    public CudaKernel Bf16 => bf16.Kernel;

    /// <summary>Every entry point, with its kernel or why it could not be had.</summary>
    public IReadOnlyList<KernelEntry> Entries => [f32, f16, bf16];

    /// <summary>The JIT's info log (registers, spills, shared memory per kernel).</summary>
    public string InfoLog => module.InfoLog;

    /// <summary>Loads the module into <paramref name="context"/>.</summary>
    /// <exception cref="InvalidOperationException">The PTX is not embedded in this build.</exception>
    /// <exception cref="CudaException">The JIT failed (the message holds its log). A missing kernel fails only its
    /// own uses.</exception>
    public static AttentionSimtKernels Load(PrimaryContextHandle context, CudaDeviceInfo device)
    {
        byte[] ptx = PtxResource.Read(ResourceName);
        var module = CudaModuleHandle.Load(context, ptx, ResourceName);
        return new AttentionSimtKernels(
            module,
            KernelEntry.Get(module, KernelNames.AttentionSimtF32Name, device),
            KernelEntry.Get(module, KernelNames.AttentionSimtF16Name, device),
            KernelEntry.Get(module, KernelNames.AttentionSimtBf16Name, device));
    }

    /// <summary>
    /// The kernel for operand type <typeparamref name="T"/>, which takes <see cref="AttentionParams{T}"/>: the
    /// generated <see cref="KernelNames.AttentionSimtName{T}"/> names it.
    /// </summary>
    /// <exception cref="NotSupportedException">No attention_simt kernel takes <typeparamref name="T"/> (float, Half and BFloat16 do).</exception>
    /// <exception cref="CudaException">The kernel's entry could not be looked up when the module loaded.</exception>
    public CudaKernel For<T>()
        where T : unmanaged => KernelNames.AttentionSimtName<T>() switch
        {
            KernelNames.AttentionSimtF32Name => F32,
            KernelNames.AttentionSimtF16Name => F16,
            KernelNames.AttentionSimtBf16Name => Bf16,
            var name => throw new UnreachableException($"KernelNames.AttentionSimtName<{typeof(T).Name}>() named {name}, which is not loaded."),
        };

    public void Dispose() => module.Dispose();
}
