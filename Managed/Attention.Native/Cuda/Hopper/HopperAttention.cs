using Attention.Native.Cuda.Interop;
using Attention.Native.Validation;

namespace Attention.Native.Cuda.Hopper;

/// <summary>
/// Prepares and launches a validated attention problem on the sm_90a kernel <c>attention_hopper</c>
/// (Native/attention_hopper.cu): check (<see cref="AttentionHopperGeometry.Supports"/>), find the bucket's kernel in
/// the backend's module, pick the launch; at launch encode the Q, K and V tensor maps for this call's operands
/// (<see cref="HopperTensorMapShape"/>) and pass them in <see cref="HopperAttentionParams{T}"/>.
/// </summary>
internal static class HopperAttention
{
    /// <summary>Why the kernel cannot run <paramref name="problem"/> on <paramref name="backend"/>'s device, or null
    /// with its kernel and launch: the problem is outside the kernel's options, the device is not compute capability
    /// 9.0, or the driver refused the module or the bucket's entry.</summary>
    /// <exception cref="InvalidOperationException">The images are not embedded in this build.</exception>
    public static string? Unavailable<T>(
        CudaBackend backend, AttentionProblem problem, out (CudaKernel Kernel, LaunchConfiguration Configuration) prepared)
        where T : unmanaged
    {
        prepared = default;
        if (!AttentionHopperGeometry.Supports(problem, typeof(T), out string? reason))
        {
            return reason;
        }

        if (!AttentionHopperKernels.IsHopper(backend.Device))
        {
            return $"The attention_hopper kernel is sm_90a code, which runs on compute capability 9.0 only; this is {backend.Device}.";
        }

        AttentionHopperKernels kernels;
        try
        {
            kernels = backend.AttentionHopperKernels();
        }
        catch (CudaException e)
        {
            return $"The driver loads neither the sm_90a cubin nor its PTX: {e.Message}";
        }

        var tile = AttentionHopperGeometry.TileFor(problem.HeadDim, problem.ValueHeadDim)!.Value;
        var entry = kernels.For<T>(tile);
        if (entry.Failure is { } failure)
        {
            return $"The driver has no usable {entry.Name} in {kernels.Image}: {failure.Message}";
        }

        var (_, configuration) = AttentionHopperGeometry.Configure(problem, entry.Kernel.Limits, backend.Stream.Handle);
        prepared = (entry.Kernel, configuration);
        return null;
    }

    /// <summary>Throws unless the operands start where TMA and the pair stores need them.</summary>
    /// <exception cref="NotSupportedException">q, k or v does not start 16-byte aligned, or o 4-byte aligned.</exception>
    public static void EnsureAligned<T>(DevicePointer<T> query, DevicePointer<T> key, DevicePointer<T> value, DevicePointer<T> output)
        where T : unmanaged
    {
        if ((query.Address | key.Address | value.Address) % AttentionHopperGeometry.OperandAlignmentBytes != 0 || output.Address % 4 != 0)
        {
            throw new NotSupportedException(
                "The attention_hopper kernel needs query, key and value to start 16-byte aligned (TMA) and the output 4-byte aligned.");
        }
    }

    /// <summary>Encodes this call's tensor maps and queues the kernel (the caller holds the launch gate).</summary>
    /// <exception cref="CudaException">The driver refused a tensor map or the launch.</exception>
    public static void Launch<T>(
        PreparedAttention prepared,
        AttentionProblem problem,
        DevicePointer<T> query,
        DevicePointer<T> key,
        DevicePointer<T> value,
        DevicePointer<T> output,
        DevicePointer<float> logSumExp,
        DevicePointer<int> keyLengths)
        where T : unmanaged
    {
        var p = problem;
        var tile = AttentionHopperGeometry.TileFor(p.HeadDim, p.ValueHeadDim)!.Value;
        var dataType = typeof(T) == typeof(Half) ? TensorMapDataType.Float16 : TensorMapDataType.BFloat16;
        var parameters = new HopperAttentionParams<T>
        {
            QMap = HopperTensorMapShape.Of(p.Batch, p.QueryHeads, p.QueryLength, p.HeadDim, p.Query, AttentionHopperTile.BlockM)
                .Encode(query.Address, dataType, "query"),
            KMap = HopperTensorMapShape.Of(p.Batch, p.KeyValueHeads, p.KeyLength, p.HeadDim, p.Key, tile.BlockN)
                .Encode(key.Address, dataType, "key"),
            VMap = HopperTensorMapShape.Of(p.Batch, p.KeyValueHeads, p.KeyLength, p.ValueHeadDim, p.Value, tile.BlockN)
                .Encode(value.Address, dataType, "value"),
            O = output,
            Lse = logSumExp,
            KeyLengths = keyLengths,
            Batch = p.Batch,
            QHeads = p.QueryHeads,
            KvHeads = p.KeyValueHeads,
            QLen = p.QueryLength,
            KLen = p.KeyLength,
            HeadDim = p.HeadDim,
            ValueDim = p.ValueHeadDim,
            Causal = AttentionParams.Causal(p.Causal),
            WindowLeft = p.WindowLeft,
            WindowRight = p.WindowRight,
            OStrideB = p.Output.Batch,
            OStrideH = p.Output.Head,
            OStrideS = p.Output.Sequence,
            Scale = p.Scale,
            Softcap = p.Softcap,
        };
        NativeKernels.Launch(prepared.Function, prepared.Configuration, in parameters);
    }
}
