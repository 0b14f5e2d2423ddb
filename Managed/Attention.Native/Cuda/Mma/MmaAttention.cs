using System.Runtime.CompilerServices;
using Attention.Native.Cuda.Interop;
using Attention.Native.Validation;

namespace Attention.Native.Cuda.Mma;

/// <summary>
/// Prepares a validated attention problem for the mma kernel <c>attention_mma</c> (Native/attention_mma.cu): check
/// (<see cref="AttentionMmaGeometry.Supports"/>), pick the head-dim bucket and its launch, and check the operands'
/// alignment. Every bucket's entry point takes the same <see cref="AttentionParams{T}"/>, with which
/// <see cref="CudaAttention.Launch"/> queues the bucket's kernel.
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
}
