using Attention.Native.Cuda.Backward;
using Attention.Native.Cuda.Hopper;
using Attention.Native.Cuda.Interop;
using Attention.Native.Cuda.Mma;
using Attention.Native.Cuda.Simt;
using Attention.Native.Cuda.SplitKv;
using Attention.Native.Validation;

namespace Attention.Native.Cuda;

/// <summary>
/// The CUDA backend: device tensors in the device's primary context, and fused attention by the
/// <c>attention_simt</c> kernels (embedded PTX, JIT-compiled by the driver on first use). All work of a backend is
/// queued in order on its <see cref="Stream"/>; tensor calls return once the kernel is queued, span calls and tensor
/// copies once it has finished. It never falls back to the CPU: what it cannot run throws.
/// </summary>
/// <remarks>
/// Masks and biases passed in host memory (<see cref="BroadcastScores{T}.Memory"/>), the key lengths and a paged
/// call's block table are uploaded on every call, <c>B|1 · H|1 · Lq · Lk</c> elements for a mask or bias; keep masks
/// and biases in tensors of this backend to avoid that. The span overload also copies Q, K, V in and the outputs out through temporary device buffers, and waits.
/// Disposing the backend does not free its tensors' memory; dispose them too.
/// </remarks>
public sealed class CudaBackend : AttentionBackend
{
    private readonly CudaDeviceInfo device;
    private readonly PrimaryContextHandle context;
    private readonly UploadScratch scratch;
    private readonly DeviceScratch splitKvWorkspace;
    private readonly DeviceScratch backwardWorkspace;
    private readonly ModuleSlot<AttentionSimtKernels> kernels = new();
    private readonly ModuleSlot<AttentionSplitKvKernels> splitKvKernels = new();
    private readonly ModuleSlot<AttentionMmaKernels> mmaKernels = new();
    private readonly ModuleSlot<AttentionMmaKernels> mmaTf32Kernels = new();
    private readonly ModuleSlot<AttentionHopperKernels> hopperKernels = new();
    private readonly ModuleSlot<AttentionBackwardKernels> backwardKernels = new();
    private readonly ModuleSlot<AttentionBackwardMmaKernels> backwardMmaKernels = new();
    private volatile bool disposed;
    private int hopperFallbackNoted;  // 1 once SelectionReason tells of a Hopper fallback (NoteHopperFallback)

    /// <summary>Creates a CUDA backend on a device.</summary>
    /// <param name="options">The device; null for device 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">The device ordinal is negative.</exception>
    /// <exception cref="CudaUnavailableException">No usable driver or device (the message says what was looked for).</exception>
    /// <exception cref="CudaException">The driver failed while setting up the context or stream.</exception>
    public CudaBackend(CudaBackendOptions? options = null)
        : this(options, "Requested explicitly.")
    {
    }

    internal CudaBackend(CudaBackendOptions? options, string reason)
        : base(reason)
    {
        options ??= new CudaBackendOptions();
        if (options.DeviceOrdinal < 0)
        {
            throw new ArgumentOutOfRangeException(
                nameof(options), options.DeviceOrdinal, "DeviceOrdinal must be 0 or positive.");
        }

        // Read before the device is touched: a bad ATTENTION_NATIVE_CUDA_KERNEL fails fast, with no context to undo.
        ForcedKernel = options.Kernel ?? CudaKernelSelector.ForcedByEnvironment();
        AllowTensorFloat32 = options.AllowTensorFloat32;
        device = CudaAvailability.Probe(options.DeviceOrdinal);
        context = RetainContext(device);
        try
        {
            Stream = new CudaStream(this, StreamHandle.Create(context, CudaStreamFlags.Default));
        }
        catch
        {
            context.Dispose();
            throw;
        }

        scratch = new UploadScratch(this);
        splitKvWorkspace = new DeviceScratch(this, 1 << 20);
        backwardWorkspace = new DeviceScratch(this, 1 << 20);
    }

    /// <inheritdoc />
    public override AttentionBackendKind Kind => AttentionBackendKind.Cuda;

    /// <inheritdoc />
    public override string Description => ForcedKernel is { } forced
        ? $"CUDA {device}, kernel forced to {CudaKernelSelector.Name(forced)}"
        : $"CUDA {device}, attention_simt and attention_splitkv kernels";

    /// <summary>The device ordinal.</summary>
    public int DeviceOrdinal => device.Ordinal;

    /// <summary>The device's name, e.g. "NVIDIA H200".</summary>
    public string DeviceName => device.Name;

    /// <summary>The device's compute capability, e.g. 9.0.</summary>
    public Version ComputeCapability => new(device.Major, device.Minor);

    /// <summary>The device's memory in bytes.</summary>
    public long TotalMemoryBytes => device.TotalMemoryBytes;

    /// <summary>The stream all of this backend's work is queued on.</summary>
    public CudaStream Stream { get; }

    internal PrimaryContextHandle Context => context;

    internal CudaDeviceInfo Device => device;

    /// <summary>Serialises the upload-and-launch sequences of concurrent calls (they share <see cref="Scratch"/>).</summary>
    internal Lock LaunchGate { get; } = new();

    internal UploadScratch Scratch => scratch;

    /// <summary>The split-KV kernel's partial outputs and log-sum-exps, reused call after call (grow-only).</summary>
    internal DeviceScratch SplitKvWorkspace => splitKvWorkspace;

    /// <summary>The backward's fp32 dQ accumulator and delta, reused call after call (grow-only).</summary>
    internal DeviceScratch BackwardWorkspace => backwardWorkspace;

    /// <summary>The kernel every call must use (options, else <c>ATTENTION_NATIVE_CUDA_KERNEL</c>); null to choose per call.</summary>
    internal CudaAttentionKernel? ForcedKernel { get; }

    /// <summary><see cref="CudaBackendOptions.AllowTensorFloat32"/>: float calls may run on the TF32 mma kernel.</summary>
    internal bool AllowTensorFloat32 { get; }

    /// <summary>Whether a usable CUDA device 0 is present, without creating a backend.</summary>
    /// <param name="reason">The device found, or why CUDA is unavailable (the message a
    /// <see cref="CudaUnavailableException"/> would carry).</param>
    /// <returns>True when <c>new CudaBackend()</c> would find its device.</returns>
    public static bool IsAvailable(out string reason)
    {
        try
        {
            var found = CudaAvailability.Probe(0);
            reason = $"CUDA {found}, driver CUDA {CudaUnavailableReasons.Version(found.DriverVersion)} ({found.LibraryFileName})";
            return true;
        }
        catch (CudaUnavailableException e)
        {
            reason = e.Message;
            return false;
        }
        catch (CudaException e)
        {
            reason = "CUDA unavailable: " + e.Message;
            return false;
        }
    }

    /// <summary>Waits until all work queued on <see cref="Stream"/> has finished.</summary>
    /// <exception cref="ObjectDisposedException">The backend was disposed.</exception>
    /// <exception cref="CudaException">Queued work failed.</exception>
    public override void Synchronize() => Stream.Synchronize();

    /// <summary>Free and total device memory, from <c>cuMemGetInfo_v2</c>.</summary>
    internal unsafe (long Free, long Total) MemoryInfo()
    {
        EnterContext();
        nuint free = 0;
        nuint total = 0;
        CudaErrors.Check(CudaDriver.cuMemGetInfo_v2(&free, &total), "cuMemGetInfo_v2");
        return ((long)free, (long)total);
    }

    /// <summary>Throws if the backend was disposed; makes its context current on this thread.</summary>
    internal void EnterContext()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        context.MakeCurrent();
    }

    /// <summary>The attention kernels, loaded (JIT-compiled) on first use and cached for the backend's lifetime (a
    /// failed load too: <see cref="ModuleSlot{T}"/>).</summary>
    internal AttentionSimtKernels AttentionKernels()
    {
        lock (LaunchGate)
        {
            EnterContext();
            return kernels.Get(this, static b => AttentionSimtKernels.Load(b.context, b.device));
        }
    }

    /// <summary>The split-KV kernels, loaded (JIT-compiled) on first use and cached for the backend's lifetime (a
    /// failed load too).</summary>
    internal AttentionSplitKvKernels SplitKvKernels()
    {
        lock (LaunchGate)
        {
            EnterContext();
            return splitKvKernels.Get(this, static b => AttentionSplitKvKernels.Load(b.context, b.device));
        }
    }

    /// <summary>The mma attention kernels for operands of <paramref name="elementType"/> (the TF32 module for
    /// float, else the f16/bf16 one), loaded (JIT-compiled) on first use and cached for the backend's lifetime (a
    /// failed load too).</summary>
    internal AttentionMmaKernels AttentionMmaKernels(Type elementType)
    {
        lock (LaunchGate)
        {
            EnterContext();
            return elementType == typeof(float)
                ? mmaTf32Kernels.Get(this, static b => Mma.AttentionMmaKernels.LoadTf32(b.context, b.device))
                : mmaKernels.Get(this, static b => Mma.AttentionMmaKernels.Load(b.context, b.device));
        }
    }

    /// <summary>The sm_90a Hopper kernels (compute capability 9.0 only): the embedded cubin, else its PTX, loaded on
    /// first use and cached for the backend's lifetime (a failed load too).</summary>
    /// <exception cref="NotSupportedException">The device is not compute capability 9.0.</exception>
    internal AttentionHopperKernels AttentionHopperKernels()
    {
        lock (LaunchGate)
        {
            EnterContext();
            return hopperKernels.Get(this, static b => Hopper.AttentionHopperKernels.Load(b.context, b.device));
        }
    }

    /// <summary>Why the last call the Hopper kernel would have run by default ran on another kernel (the device is
    /// compute capability 9.0 but its driver could not load the sm_90a image or entry); null while none has.</summary>
    internal string? HopperFallbackReason { get; private set; }

    /// <summary>Keeps why a call the Hopper kernel would have run by default runs on the next kernel, and says so in
    /// <see cref="AttentionBackend.SelectionReason"/> the first time, so that a 9.0 device running the mma kernel is
    /// visible rather than silent.</summary>
    /// <param name="reason">Why the sm_90a kernel cannot run (HopperAttention.Unavailable).</param>
    internal void NoteHopperFallback(string reason)
    {
        HopperFallbackReason = reason;
        if (Interlocked.Exchange(ref hopperFallbackNoted, 1) == 0)
        {
            SelectionReason += $" On this compute capability 9.0 device the sm_90a kernel could not be loaded " +
                $"({reason.TrimEnd('.')}); calls run on the mma kernel.";
        }
    }

    /// <summary>The backward kernels (<c>attention_backward</c>), loaded (JIT-compiled) on first use and cached for the
    /// backend's lifetime (a failed load too).</summary>
    internal AttentionBackwardKernels BackwardKernels()
    {
        lock (LaunchGate)
        {
            EnterContext();
            return backwardKernels.Get(this, static b => AttentionBackwardKernels.Load(b.context, b.device));
        }
    }

    /// <summary>The tensor-core backward kernels (<c>attention_backward_mma</c>), loaded (JIT-compiled) on first use and
    /// cached for the backend's lifetime (a failed load too).</summary>
    internal AttentionBackwardMmaKernels BackwardMmaKernels()
    {
        lock (LaunchGate)
        {
            EnterContext();
            return backwardMmaKernels.Get(this, static b => AttentionBackwardMmaKernels.Load(b.context, b.device));
        }
    }

    /// <summary>Device memory of <paramref name="bytes"/>, zero-filled in stream order.</summary>
    internal DeviceMemoryHandle AllocateZeroed(nuint bytes)
    {
        EnterContext();
        var memory = DeviceMemoryHandle.Allocate(context, bytes);
        try
        {
            Stream.Fill(memory.Address, 0, bytes);
        }
        catch
        {
            memory.Dispose();
            throw;
        }

        return memory;
    }

    private protected override AttentionTensor<T> AllocateCore<T>(long length) => new CudaTensor<T>(this, length);

    private protected override void RunCore<T>(
        AttentionProblem problem,
        AttentionTensor<T> query,
        AttentionTensor<T> key,
        AttentionTensor<T> value,
        AttentionTensor<T> output,
        AttentionTensor<float>? logSumExp,
        AttentionTensor<float>? probabilities)
    {
        var prepared = CudaAttention.Prepare<T>(this, problem);
        CudaAttention.Launch(
            this, prepared, problem, CudaTensor<T>.PointerOf(query), CudaTensor<T>.PointerOf(key),
            CudaTensor<T>.PointerOf(value), CudaTensor<T>.PointerOf(output), CudaTensor<float>.PointerOf(logSumExp),
            CudaTensor<float>.PointerOf(probabilities));
    }

    private protected override void RunCore<T>(
        AttentionProblem problem,
        ReadOnlySpan<T> query,
        ReadOnlySpan<T> key,
        ReadOnlySpan<T> value,
        Span<T> output,
        Span<float> logSumExp,
        Span<float> probabilities) =>
        CudaSpanAttention.Run(this, problem, query, key, value, output, logSumExp, probabilities);

    private protected override void RunBackwardCore<T>(
        AttentionBackwardProblem problem,
        AttentionTensor<T> query,
        AttentionTensor<T> key,
        AttentionTensor<T> value,
        AttentionTensor<T> output,
        AttentionTensor<float> logSumExp,
        AttentionTensor<T> outputGrad,
        AttentionTensor<T> queryGrad,
        AttentionTensor<T> keyGrad,
        AttentionTensor<T> valueGrad,
        AttentionTensor<float>? biasGrad,
        AttentionTensor<float>? sinksGrad)
    {
        var prepared = CudaAttentionBackward.Prepare<T>(this, problem);
        CudaAttentionBackward.Launch(this, prepared, problem, new BackwardPointers<T>(
            CudaTensor<T>.PointerOf(query), CudaTensor<T>.PointerOf(key), CudaTensor<T>.PointerOf(value),
            CudaTensor<T>.PointerOf(output), CudaTensor<float>.PointerOf(logSumExp), CudaTensor<T>.PointerOf(outputGrad),
            CudaTensor<T>.PointerOf(queryGrad), CudaTensor<T>.PointerOf(keyGrad), CudaTensor<T>.PointerOf(valueGrad),
            CudaTensor<float>.PointerOf(biasGrad), CudaTensor<float>.PointerOf(sinksGrad)));
    }

    private protected override void RunBackwardCore<T>(
        AttentionBackwardProblem problem,
        ReadOnlySpan<T> query,
        ReadOnlySpan<T> key,
        ReadOnlySpan<T> value,
        ReadOnlySpan<T> output,
        ReadOnlySpan<float> logSumExp,
        ReadOnlySpan<T> outputGrad,
        Span<T> queryGrad,
        Span<T> keyGrad,
        Span<T> valueGrad,
        Span<float> biasGrad,
        Span<float> sinksGrad) =>
        CudaSpanAttentionBackward.Run(
            this, problem, query, key, value, output, logSumExp, outputGrad, queryGrad, keyGrad, valueGrad, biasGrad, sinksGrad);

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (!disposing)
        {
            return;
        }

        lock (LaunchGate)
        {
            disposed = true;
            Stream.Close();
            kernels.Dispose();
            splitKvKernels.Dispose();
            mmaKernels.Dispose();
            mmaTf32Kernels.Dispose();
            hopperKernels.Dispose();
            backwardKernels.Dispose();
            backwardMmaKernels.Dispose();
            scratch.Dispose();
            splitKvWorkspace.Dispose();
            backwardWorkspace.Dispose();
            context.Dispose();
        }
    }

    private static PrimaryContextHandle RetainContext(CudaDeviceInfo device)
    {
        try
        {
            return PrimaryContextHandle.Retain(device.Device);
        }
        catch (CudaException e) when (e.Result == (int)CudaResult.DeviceUnavailable)
        {
            throw new CudaUnavailableException(
                CudaUnavailableReasons.DeviceBusy(device.Ordinal, device.Name, e.ResultName), e);
        }
    }
}
