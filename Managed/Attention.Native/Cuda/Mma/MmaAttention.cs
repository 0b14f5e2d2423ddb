using System.Runtime.CompilerServices;
using Attention.Native.Cuda.Interop;
using Attention.Native.Validation;

namespace Attention.Native.Cuda.Mma;

/// <summary>
/// Runs a validated attention problem on the mma kernel <c>attention_mma</c> (Native/attention_mma.cu), as
/// <see cref="CudaAttention"/> does on the SIMT kernel: check (<see cref="AttentionMmaGeometry.Supports"/>), pick the
/// head-dim bucket, upload what is still in host memory, queue the kernel. Nothing here waits for the GPU.
/// </summary>
internal static class MmaAttention
{
    /// <summary>The kernel and launch for <paramref name="problem"/>; throws before anything is uploaded.</summary>
    /// <exception cref="NotSupportedException">The kernel cannot run the problem (the message names the option).</exception>
    /// <exception cref="InvalidOperationException">The PTX is not embedded in this build.</exception>
    /// <exception cref="CudaException">Loading the kernels failed.</exception>
    public static (CudaKernel Kernel, LaunchConfiguration Configuration) Prepare<T>(CudaBackend backend, AttentionProblem problem)
        where T : unmanaged
    {
        if (!AttentionMmaGeometry.Supports<T>(problem, out string? reason))
        {
            throw new NotSupportedException(reason);
        }

        var kernels = backend.AttentionMmaKernels(typeof(T));
        var bucket = AttentionMmaGeometry.TileFor(problem.HeadDim, problem.ValueHeadDim, typeof(T))!.Value;
        var limits = kernels.For<T>(bucket).Limits;
        var (tile, configuration) = AttentionMmaGeometry.Configure(problem, limits, backend.Stream.Handle, typeof(T));
        return (kernels.For<T>(tile), configuration);
    }

    /// <summary>Throws unless the operands start where the kernel's 16-byte copies and pair stores need them.</summary>
    /// <exception cref="NotSupportedException">q, k or v does not start 16-byte aligned, or o at a multiple of two
    /// elements' bytes (4 for Half and BFloat16, 8 for float).</exception>
    public static void EnsureAligned<T>(DevicePointer<T> query, DevicePointer<T> key, DevicePointer<T> value, DevicePointer<T> output)
        where T : unmanaged
    {
        if (!IsAligned(query, key, value, output))
        {
            throw new NotSupportedException(
                $"The attention_mma kernel needs query, key and value to start 16-byte aligned and the output {2 * Unsafe.SizeOf<T>()}-byte aligned.");
        }
    }

    /// <summary>Whether the operands start where the kernel's copies need them (<see cref="EnsureAligned"/>).</summary>
    public static bool IsAligned<T>(DevicePointer<T> query, DevicePointer<T> key, DevicePointer<T> value, DevicePointer<T> output)
        where T : unmanaged
    {
        // The epilogue stores element pairs.
        uint pairBytes = 2 * (uint)Unsafe.SizeOf<T>();
        return (query.Address | key.Address | value.Address) % 16 == 0 && output.Address % pairBytes == 0;
    }

    /// <summary>
    /// Queues the kernel prepared by <see cref="Prepare"/>; the caller (<see cref="CudaAttention.Launch"/>) has checked
    /// <see cref="EnsureAligned"/>, holds the backend's launch lock and has staged the uploads.
    /// </summary>
    public static void Launch<T>(
        PreparedAttention prepared,
        AttentionProblem p,
        DevicePointer<T> query,
        DevicePointer<T> key,
        DevicePointer<T> value,
        DevicePointer<T> output,
        DevicePointer<float> logSumExp,
        DevicePointer<bool> mask,
        DevicePointer<float> bias,
        DevicePointer<int> keyLengths)
        where T : unmanaged
    {
        // Every bucket's entry point has the same parameter list, so the d64 family's generated launcher packs the
        // arguments for whichever bucket's function was prepared, reporting a rejected launch under that function's name.
        NativeKernels.AttentionMmaD64(
            prepared.Function.Function,
            prepared.Configuration,
            query,
            key,
            value,
            output,
            logSumExp,
            mask,
            bias,
            keyLengths,
            p.Batch,
            p.QueryHeads,
            p.KeyValueHeads,
            p.QueryLength,
            p.KeyLength,
            p.HeadDim,
            p.ValueHeadDim,
            p.Query.Batch,
            p.Query.Head,
            p.Query.Sequence,
            p.Key.Batch,
            p.Key.Head,
            p.Key.Sequence,
            p.Value.Batch,
            p.Value.Head,
            p.Value.Sequence,
            p.Output.Batch,
            p.Output.Head,
            p.Output.Sequence,
            p.Mask is { } m ? p.MaskBatchStride(m.Heads, m.Batch) : 0,
            p.Mask is { } mh ? p.MaskHeadStride(mh.Heads) : 0,
            p.Bias is { } b ? p.MaskBatchStride(b.Heads, b.Batch) : 0,
            p.Bias is { } bh ? p.MaskHeadStride(bh.Heads) : 0,
            p.Scale,
            p.Softcap,
            CudaAttention.Causal(p.Causal),
            p.WindowLeft,
            p.WindowRight,
            __kernelName: prepared.Function.Name);
    }
}
