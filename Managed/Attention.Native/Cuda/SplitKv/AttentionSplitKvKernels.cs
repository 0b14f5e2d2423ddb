using System.Diagnostics;
using Attention.Native.Cuda.Interop;

namespace Attention.Native.Cuda.SplitKv;

/// <summary>
/// The <c>attention_splitkv</c> module of one backend (embedded PTX, JIT-compiled once per backend): per element type
/// the partial kernel (<c>attention_splitkv_partial_*</c>) and the merge (<c>attention_splitkv_merge_*</c>).
/// </summary>
internal sealed class AttentionSplitKvKernels : IDisposable
{
    /// <summary>The embedded resource holding the PTX.</summary>
    public const string ResourceName = "ptx/attention_splitkv.ptx";

    private readonly CudaModuleHandle module;

    private readonly Dictionary<string, CudaKernel> kernels;

    private AttentionSplitKvKernels(CudaModuleHandle module, Dictionary<string, CudaKernel> kernels)
    {
        this.module = module;
        this.kernels = kernels;
    }

    /// <summary>Loads the module into <paramref name="context"/>.</summary>
    /// <exception cref="InvalidOperationException">The PTX is not embedded in this build.</exception>
    /// <exception cref="CudaException">The JIT failed (the message holds its log) or a kernel is missing.</exception>
    public static AttentionSplitKvKernels Load(PrimaryContextHandle context, CudaDeviceInfo device)
    {
        byte[] ptx = PtxResource.Read(ResourceName);
        var module = CudaModuleHandle.Load(context, ptx, ResourceName);
        try
        {
            string[] names =
            [
                KernelNames.AttentionSplitkvPartialF32Name, KernelNames.AttentionSplitkvPartialF16Name,
                KernelNames.AttentionSplitkvPartialBf16Name, KernelNames.AttentionSplitkvMergeF32Name,
                KernelNames.AttentionSplitkvMergeF16Name, KernelNames.AttentionSplitkvMergeBf16Name,
            ];
            return new AttentionSplitKvKernels(
                module, names.ToDictionary(name => name, name => CudaKernel.Get(module, name, device), StringComparer.Ordinal));
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }

    /// <summary>The partial and merge kernels for operand type <typeparamref name="T"/>, named by the generated launchers.</summary>
    /// <exception cref="NotSupportedException">No split-KV kernel takes <typeparamref name="T"/> (float, Half and BFloat16 do).</exception>
    public (CudaKernel Partial, CudaKernel Merge) For<T>()
        where T : unmanaged =>
        (Lookup(KernelNames.AttentionSplitkvPartialName<T>()), Lookup(KernelNames.AttentionSplitkvMergeName<T>()));

    public void Dispose() => module.Dispose();

    private CudaKernel Lookup(string name) =>
        kernels.TryGetValue(name, out var kernel) ? kernel : throw new UnreachableException($"{name} is not loaded.");
}
