using System.Diagnostics;
using Attention.Native.Cuda.Interop;

namespace Attention.Native.Cuda.Simt;

/// <summary>
/// The <c>attention_simt</c> module of one backend: the embedded PTX, JIT-compiled once per backend, and its three
/// kernels (<c>attention_simt_f32</c>, <c>_f16</c>, <c>_bf16</c>), looked up once and cached.
/// </summary>
internal sealed class AttentionSimtKernels : IDisposable
{
    /// <summary>The embedded resource holding the PTX.</summary>
    public const string ResourceName = "ptx/attention_simt.ptx";

    private readonly CudaModuleHandle module;

    private AttentionSimtKernels(CudaModuleHandle module, CudaKernel f32, CudaKernel f16, CudaKernel bf16)
    {
        this.module = module;
        F32 = f32;
        F16 = f16;
        Bf16 = bf16;
    }

    public CudaKernel F32 { get; }

    public CudaKernel F16 { get; }

    public CudaKernel Bf16 { get; }

    /// <summary>The JIT's info log (registers, spills, shared memory per kernel).</summary>
    public string InfoLog => module.InfoLog;

    /// <summary>Loads the module into <paramref name="context"/>.</summary>
    /// <exception cref="InvalidOperationException">The PTX is not embedded in this build.</exception>
    /// <exception cref="CudaException">The JIT failed (the message holds its log) or a kernel is missing.</exception>
    public static AttentionSimtKernels Load(PrimaryContextHandle context, CudaDeviceInfo device)
    {
        byte[] ptx = PtxResource.Read(ResourceName);
        var module = CudaModuleHandle.Load(context, ptx, ResourceName);
        try
        {
            return new AttentionSimtKernels(
                module,
                CudaKernel.Get(module, KernelNames.AttentionSimtF32Name, device),
                CudaKernel.Get(module, KernelNames.AttentionSimtF16Name, device),
                CudaKernel.Get(module, KernelNames.AttentionSimtBf16Name, device));
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The kernel for operand type <typeparamref name="T"/>, which takes <see cref="AttentionParams{T}"/>: the
    /// generated <see cref="KernelNames.AttentionSimtName{T}"/> names it.
    /// </summary>
    /// <exception cref="NotSupportedException">No attention_simt kernel takes <typeparamref name="T"/> (float, Half and BFloat16 do).</exception>
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
