namespace Attention.Native.Cuda;

/// <summary>Settings of a <see cref="CudaBackend"/>.</summary>
public sealed record CudaBackendOptions
{
    /// <summary>The device to run on, as the driver numbers them (<c>cuDeviceGet</c>); 0, the first, by default.</summary>
    public int DeviceOrdinal { get; init; }

    /// <summary>
    /// Lets float calls run on the tensor cores as TF32 (the <c>attention_mma_d*_f32</c> kernels): Q, K, V and the
    /// softmax weights are rounded to TF32's 10-bit mantissa (round to nearest, ties away) as they enter the matrix
    /// products, which still accumulate in float. Accuracy against a float64 reference is then within 5e-4 relative
    /// (‖O − ref‖ / ‖ref‖) for scores of ordinary size — scale · Σ|q·k| up to about 8, as 1/√D gives on operands in
    /// [−1, 1]; the error grows with the scores' size beyond that — instead of the 1e-5 the SIMT and
    /// split-KV kernels keep, for several times their speed on prefill-sized problems. Off by default: float calls
    /// stay on the exact-float kernels. When on, float calls the mma kernel supports (no probabilities, head
    /// dims up to 256, 16-byte-aligned rows; not decode, which goes to split-KV) run on it, and forcing
    /// <c>ATTENTION_NATIVE_CUDA_KERNEL=mma</c> with float operands is allowed (without this option it throws a
    /// <see cref="NotSupportedException"/>). Half and BFloat16 calls are not affected.
    /// </summary>
    public bool AllowTensorFloat32 { get; init; }

    /// <summary>
    /// The kernel every call must use (tests and benchmarks force each); null to choose per call, or to take
    /// <c>ATTENTION_NATIVE_CUDA_KERNEL</c> when set.
    /// </summary>
    internal CudaAttentionKernel? Kernel { get; init; }
}
