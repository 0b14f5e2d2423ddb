using Attention.Native.Cuda.Interop;

namespace Attention.Native.Cuda.Hopper;

/// <summary>
/// The <c>attention_hopper</c> module of one backend on a compute capability 9.0 device: the embedded sm_90a cubin
/// (ptxas 12.4's, loaded as it is), or where the driver refuses it the embedded <c>.target sm_90a</c> PTX, JIT-compiled;
/// and its kernels, one per head-dim bucket and element type, each looked up on its own (<see cref="KernelEntry"/>).
/// </summary>
internal sealed class AttentionHopperKernels : IDisposable
{
    /// <summary>The embedded resource holding the cubin (Native/sm90a/attention_hopper.cubin).</summary>
    public const string CubinResourceName = "sm90a/attention_hopper.cubin";

    /// <summary>The embedded resource holding the PTX (Native/sm90a/attention_hopper.ptx).</summary>
    public const string PtxResourceName = "sm90a/attention_hopper.ptx";

    /// <summary>The f16 and bf16 kernels of each bucket, in <see cref="AttentionHopperGeometry.Tiles"/> order.</summary>
    public static readonly (string F16, string Bf16)[] EntryPoints =
    [
        (KernelNames.AttentionHopperD64F16Name, KernelNames.AttentionHopperD64Bf16Name),
        (KernelNames.AttentionHopperD128F16Name, KernelNames.AttentionHopperD128Bf16Name),
        (KernelNames.AttentionHopperD256F16Name, KernelNames.AttentionHopperD256Bf16Name),
    ];

    private readonly CudaModuleHandle module;
    private readonly KernelEntry[] f16;
    private readonly KernelEntry[] bf16;

    private AttentionHopperKernels(CudaModuleHandle module, string image, string? cubinFailure, KernelEntry[] f16, KernelEntry[] bf16)
    {
        this.module = module;
        Image = image;
        CubinFailure = cubinFailure;
        this.f16 = f16;
        this.bf16 = bf16;
    }

    /// <summary>The resource the module was loaded from: <see cref="CubinResourceName"/> or <see cref="PtxResourceName"/>.</summary>
    public string Image { get; }

    /// <summary>Why the driver refused the cubin where the PTX was loaded instead; null when the cubin loaded.</summary>
    public string? CubinFailure { get; }

    /// <summary>Every entry point, with its kernel or why it could not be had.</summary>
    public IReadOnlyList<KernelEntry> Entries => [.. f16, .. bf16];

    /// <summary>Loads the module into <paramref name="context"/>: the cubin, else the PTX.</summary>
    /// <exception cref="NotSupportedException">The device is not compute capability 9.0 (sm_90a code runs on no other).</exception>
    /// <exception cref="InvalidOperationException">The images are not embedded in this build.</exception>
    /// <exception cref="CudaException">The driver refused both images (the PTX's JIT log in the message).</exception>
    public static AttentionHopperKernels Load(PrimaryContextHandle context, CudaDeviceInfo device)
    {
        if (!IsHopper(device))
        {
            throw new NotSupportedException(
                $"The attention_hopper kernel is sm_90a code, which runs on compute capability 9.0 only; this is {device}.");
        }

        CudaModuleHandle module;
        string image = CubinResourceName;
        string? cubinFailure = null;
        try
        {
            // PtxResource.Read appends a 0 byte, which CudaModuleHandle.Load asks of every image; the driver reads a
            // cubin by its ELF header and ignores it.
            module = CudaModuleHandle.Load(context, PtxResource.Read(CubinResourceName), CubinResourceName);
        }
        catch (CudaException e)
        {
            cubinFailure = e.Message;
            image = PtxResourceName;
            module = CudaModuleHandle.Load(context, PtxResource.Read(PtxResourceName), PtxResourceName);
        }

        return new AttentionHopperKernels(
            module,
            image,
            cubinFailure,
            [.. EntryPoints.Select(e => KernelEntry.Get(module, e.F16, device))],
            [.. EntryPoints.Select(e => KernelEntry.Get(module, e.Bf16, device))]);
    }

    /// <summary>Whether sm_90a code runs on <paramref name="device"/>: compute capability 9.0 exactly (the "a" features
    /// are not forward compatible).</summary>
    public static bool IsHopper(CudaDeviceInfo device) => device.Major == 9 && device.Minor == 0;

    /// <summary>The entry of <paramref name="tile"/>'s bucket for operand type <typeparamref name="T"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="tile"/> is not a bucket, or <typeparamref name="T"/> is not
    /// Half or BFloat16.</exception>
    public KernelEntry For<T>(AttentionHopperTile tile)
        where T : unmanaged
    {
        int bucket = Array.IndexOf(AttentionHopperGeometry.Tiles, tile);
        var kernels = typeof(T) == typeof(Half) ? f16 : typeof(T) == typeof(BFloat16) ? bf16 : null;
        return bucket >= 0 && kernels is not null ? kernels[bucket]
            : throw new ArgumentException($"{tile} for {typeof(T).Name} is not an attention_hopper kernel.", nameof(tile));
    }

    public void Dispose() => module.Dispose();
}
