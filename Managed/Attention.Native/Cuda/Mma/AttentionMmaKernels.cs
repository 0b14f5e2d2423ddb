using Attention.Native.Cuda.Interop;

namespace Attention.Native.Cuda.Mma;

/// <summary>
/// An <c>attention_mma</c> module of one backend: the embedded PTX, JIT-compiled once, and its kernels, one per
/// head-dim bucket and element type — <c>attention_mma.ptx</c> (<see cref="Load"/>: <c>_f16</c>, <c>_bf16</c>, <see
/// cref="AttentionMmaGeometry.Tiles"/>) or <c>attention_mma_tf32.ptx</c> (<see cref="LoadTf32"/>: <c>_f32</c> on TF32,
/// <see cref="AttentionMmaGeometry.Tf32Tiles"/>), a module of its own so that only callers who allow TF32 JIT it.
/// Each bucket's entry is looked up on its own (<see cref="KernelEntry"/>): one the driver rejects fails only that
/// bucket's calls.
/// </summary>
internal sealed class AttentionMmaKernels : IDisposable
{
    /// <summary>The embedded resource holding the PTX.</summary>
    public const string ResourceName = "ptx/attention_mma.ptx";

    /// <summary>The entry points of each bucket, in <see cref="AttentionMmaGeometry.Tiles"/> order.</summary>
    public static readonly (string F16, string Bf16)[] EntryPoints =
    [
        (KernelNames.AttentionMmaD32F16Name, KernelNames.AttentionMmaD32Bf16Name),
        (KernelNames.AttentionMmaD64F16Name, KernelNames.AttentionMmaD64Bf16Name),
        (KernelNames.AttentionMmaD96F16Name, KernelNames.AttentionMmaD96Bf16Name),
        (KernelNames.AttentionMmaD128F16Name, KernelNames.AttentionMmaD128Bf16Name),
        (KernelNames.AttentionMmaD160F16Name, KernelNames.AttentionMmaD160Bf16Name),
        (KernelNames.AttentionMmaD192F16Name, KernelNames.AttentionMmaD192Bf16Name),
        (KernelNames.AttentionMmaD256F16Name, KernelNames.AttentionMmaD256Bf16Name),
    ];

    /// <summary>The embedded resource holding the TF32 kernels' PTX.</summary>
    public const string Tf32ResourceName = "ptx/attention_mma_tf32.ptx";

    /// <summary>The TF32 kernel of each bucket, in <see cref="AttentionMmaGeometry.Tf32Tiles"/> order.</summary>
    public static readonly string[] Tf32EntryPoints =
    [
        KernelNames.AttentionMmaD32F32Name,
        KernelNames.AttentionMmaD64F32Name,
        KernelNames.AttentionMmaD96F32Name,
        KernelNames.AttentionMmaD128F32Name,
        KernelNames.AttentionMmaD160F32Name,
        KernelNames.AttentionMmaD192F32Name,
        KernelNames.AttentionMmaD256F32Name,
    ];

    private readonly CudaModuleHandle module;
    private readonly KernelEntry[] f16;
    private readonly KernelEntry[] bf16;
    private readonly KernelEntry[] f32;

    private AttentionMmaKernels(CudaModuleHandle module, KernelEntry[] f16, KernelEntry[] bf16, KernelEntry[] f32)
    {
        this.module = module;
        this.f16 = f16;
        this.bf16 = bf16;
        this.f32 = f32;
    }

    /// <summary>The JIT's info log (registers, spills, shared memory per kernel).</summary>
    public string InfoLog => module.InfoLog;

    /// <summary>Every entry point, with its kernel or why it could not be had.</summary>
    public IReadOnlyList<KernelEntry> Entries => [.. f16, .. bf16, .. f32];

    /// <summary>Loads the f16/bf16 module into <paramref name="context"/> and opts every kernel in to the device's
    /// shared memory.</summary>
    /// <exception cref="InvalidOperationException">The PTX is not embedded in this build.</exception>
    /// <exception cref="CudaException">The JIT failed (the message holds its log). A missing kernel fails only its
    /// bucket's calls.</exception>
    public static AttentionMmaKernels Load(PrimaryContextHandle context, CudaDeviceInfo device) =>
        LoadModule(context, device, ResourceName, [.. EntryPoints.Select(e => e.F16)], [.. EntryPoints.Select(e => e.Bf16)], []);

    /// <summary>Loads the TF32 module (float operands) as <see cref="Load"/> does the f16/bf16 one.</summary>
    /// <exception cref="InvalidOperationException">The PTX is not embedded in this build.</exception>
    /// <exception cref="CudaException">The JIT failed (the message holds its log). A missing kernel fails only its
    /// bucket's calls.</exception>
    public static AttentionMmaKernels LoadTf32(PrimaryContextHandle context, CudaDeviceInfo device) =>
        LoadModule(context, device, Tf32ResourceName, [], [], Tf32EntryPoints);

    private static AttentionMmaKernels LoadModule(
        PrimaryContextHandle context, CudaDeviceInfo device, string resource, string[] f16, string[] bf16, string[] f32)
    {
        byte[] ptx = PtxResource.Read(resource);
        var module = CudaModuleHandle.Load(context, ptx, resource);
        return new AttentionMmaKernels(
            module,
            [.. f16.Select(e => KernelEntry.Get(module, e, device))],
            [.. bf16.Select(e => KernelEntry.Get(module, e, device))],
            [.. f32.Select(e => KernelEntry.Get(module, e, device))]);
    }

    /// <summary>The kernel of <paramref name="tile"/>'s bucket for operand type <typeparamref name="T"/>.</summary>
    /// <exception cref="NotSupportedException">This module has no kernels for <typeparamref name="T"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="tile"/> is not one of <typeparamref name="T"/>'s tiles
    /// (<see cref="AttentionMmaGeometry.TilesFor"/>).</exception>
    /// <exception cref="CudaException">The bucket's entry could not be looked up when the module loaded.</exception>
    public CudaKernel For<T>(AttentionMmaTile tile)
        where T : unmanaged
    {
        int bucket = Array.IndexOf(AttentionMmaGeometry.TilesFor(typeof(T)), tile);
        if (bucket < 0)
        {
            throw new ArgumentException($"{tile} is not a tile of attention_mma for {typeof(T).Name}.", nameof(tile));
        }

        var kernels = typeof(T) == typeof(Half) ? f16
            : typeof(T) == typeof(BFloat16) ? bf16
            : typeof(T) == typeof(float) ? f32
            : [];
        return bucket < kernels.Length ? kernels[bucket].Kernel
            : throw new NotSupportedException($"This attention_mma module has no kernels for {typeof(T).Name}.");
    }

    public void Dispose() => module.Dispose();
}
