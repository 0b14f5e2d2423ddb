using System.Diagnostics;
using Attention.Native.Cuda.Interop;

namespace Attention.Native.Cuda.SplitKv;

/// <summary>
/// The <c>attention_splitkv</c> module of one backend (embedded PTX, JIT-compiled once per backend): per element type
/// the partial kernel (<c>attention_splitkv_partial_*</c>) and the merge (<c>attention_splitkv_merge_*</c>), each looked
/// up once on its own (<see cref="KernelEntry"/>).
/// </summary>
internal sealed class AttentionSplitKvKernels : IDisposable
{
    /// <summary>The embedded resource holding the PTX.</summary>
    public const string ResourceName = "ptx/attention_splitkv.ptx";

    private readonly CudaModuleHandle module;

    private readonly Dictionary<string, KernelEntry> kernels;

    private AttentionSplitKvKernels(CudaModuleHandle module, Dictionary<string, KernelEntry> kernels)
    {
        this.module = module;
        this.kernels = kernels;
    }

    /// <summary>The JIT's info log (registers, spills, shared memory per kernel).</summary>
    public string InfoLog => module.InfoLog;

    /// <summary>Every entry point, with its kernel or why it could not be had.</summary>
    public IReadOnlyList<KernelEntry> Entries => [.. kernels.Values];

    /// <summary>Loads the module into <paramref name="context"/>.</summary>
    /// <exception cref="InvalidOperationException">The PTX is not embedded in this build.</exception>
    /// <exception cref="CudaException">The JIT failed (the message holds its log). A missing kernel fails only its
    /// own uses.</exception>
    public static AttentionSplitKvKernels Load(PrimaryContextHandle context, CudaDeviceInfo device)
    {
        byte[] ptx = PtxResource.Read(ResourceName);
        var module = CudaModuleHandle.Load(context, ptx, ResourceName);
        string[] names =
        [
            KernelNames.AttentionSplitkvPartialF32Name, KernelNames.AttentionSplitkvPartialF16Name,
            KernelNames.AttentionSplitkvPartialBf16Name, KernelNames.AttentionSplitkvMergeF32Name,
            KernelNames.AttentionSplitkvMergeF16Name, KernelNames.AttentionSplitkvMergeBf16Name,
            KernelNames.AttentionSplitkvPartialI8F16Name, KernelNames.AttentionSplitkvPartialI8Bf16Name,
            KernelNames.AttentionSplitkvPartialE4m3F16Name, KernelNames.AttentionSplitkvPartialE4m3Bf16Name,
        ];
        return new AttentionSplitKvKernels(
            module, names.ToDictionary(name => name, name => KernelEntry.Get(module, name, device), StringComparer.Ordinal));
    }

    /// <summary>The partial and merge kernels for operand type <typeparamref name="T"/>, named by the generated launchers.</summary>
    /// <exception cref="NotSupportedException">No split-KV kernel takes <typeparamref name="T"/> (float, Half and BFloat16 do).</exception>
    /// <exception cref="CudaException">One of the two entries could not be looked up when the module loaded.</exception>
    public (CudaKernel Partial, CudaKernel Merge) For<T>()
        where T : unmanaged =>
        (Lookup(KernelNames.AttentionSplitkvPartialName<T>()), Lookup(KernelNames.AttentionSplitkvMergeName<T>()));

    /// <summary>The partial kernel reading 8-bit K/V of <paramref name="format"/> for 16-bit queries
    /// <typeparamref name="T"/>, and the merge of <typeparamref name="T"/>.</summary>
    /// <exception cref="NotSupportedException">No 8-bit partial kernel takes <typeparamref name="T"/> (Half and BFloat16 do).</exception>
    /// <exception cref="CudaException">One of the two entries could not be looked up when the module loaded.</exception>
    public (CudaKernel Partial, CudaKernel Merge) For8Bit<T>(KeyValue8BitFormat format)
        where T : unmanaged =>
        (Lookup(format == KeyValue8BitFormat.Int8
                ? KernelNames.AttentionSplitkvPartialI8Name<T>()
                : KernelNames.AttentionSplitkvPartialE4m3Name<T>()),
            Lookup(KernelNames.AttentionSplitkvMergeName<T>()));

    public void Dispose() => module.Dispose();

    private CudaKernel Lookup(string name) =>
        kernels.TryGetValue(name, out var entry) ? entry.Kernel : throw new UnreachableException($"{name} is not loaded.");
}
