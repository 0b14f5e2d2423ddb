using Attention.Native.Cuda.Interop;

namespace Attention.Native.Cuda;

/// <summary>
/// The <c>attention_mma</c> module of one backend: the embedded PTX, JIT-compiled once, and its kernels, one per
/// head-dim bucket (<see cref="AttentionMmaGeometry.Tiles"/>) and element type (<c>_f16</c>, <c>_bf16</c>).
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

    private readonly CudaModuleHandle module;
    private readonly CudaKernel[] f16;
    private readonly CudaKernel[] bf16;

    private AttentionMmaKernels(CudaModuleHandle module, CudaKernel[] f16, CudaKernel[] bf16)
    {
        this.module = module;
        this.f16 = f16;
        this.bf16 = bf16;
    }

    /// <summary>The JIT's info log (registers, spills, shared memory per kernel).</summary>
    public string InfoLog => module.InfoLog;

    /// <summary>Loads the module into <paramref name="context"/> and opts every kernel in to the device's shared memory.</summary>
    /// <exception cref="InvalidOperationException">The PTX is not embedded in this build.</exception>
    /// <exception cref="CudaException">The JIT failed (the message holds its log) or a kernel is missing.</exception>
    public static AttentionMmaKernels Load(PrimaryContextHandle context, CudaDeviceInfo device)
    {
        byte[] ptx = PtxResource.Read(ResourceName);
        var module = CudaModuleHandle.Load(context, ptx, ResourceName);
        try
        {
            return new AttentionMmaKernels(
                module,
                [.. EntryPoints.Select(e => CudaKernel.Get(module, e.F16, device))],
                [.. EntryPoints.Select(e => CudaKernel.Get(module, e.Bf16, device))]);
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }

    /// <summary>The kernel of <paramref name="tile"/>'s bucket for operand type <typeparamref name="T"/>.</summary>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither Half nor BFloat16.</exception>
    /// <exception cref="ArgumentException"><paramref name="tile"/> is not one of <see cref="AttentionMmaGeometry.Tiles"/>.</exception>
    public CudaKernel For<T>(AttentionMmaTile tile)
        where T : unmanaged
    {
        int bucket = Array.IndexOf(AttentionMmaGeometry.Tiles, tile);
        if (bucket < 0)
        {
            throw new ArgumentException($"{tile} is not a tile of attention_mma.", nameof(tile));
        }

        return typeof(T) == typeof(Half) ? f16[bucket]
            : typeof(T) == typeof(BFloat16) ? bf16[bucket]
            : throw new NotSupportedException($"The attention_mma kernels take Half and BFloat16, not {typeof(T).Name}.");
    }

    public void Dispose() => module.Dispose();
}
