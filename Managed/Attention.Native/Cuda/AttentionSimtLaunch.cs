using Attention.Native.Cuda.Interop;

namespace Attention.Native.Cuda;

/// <summary>
/// Hand-packed launcher of <c>attention_simt_{f32,f16,bf16}</c>: its parameters are the kernel's, in the order of
/// Native/README.md. Each value sits in a local (the parameters themselves) and a stack-allocated <c>void*</c> array
/// points at them — no boxing, no heap allocation, one <c>cuLaunchKernel</c>.
/// </summary>
/// <remarks>Temporary: the source generator will emit this launcher from the kernel's signature and replace this file.</remarks>
internal static unsafe class AttentionSimtLaunch
{
    /// <summary>The number of kernel parameters.</summary>
    public const int ParameterCount = 37;

    /// <summary>Queues the kernel. Parameter names are the kernel's, in camel case.</summary>
    /// <exception cref="CudaException">The launch was rejected; the message names the <c>CUresult</c>.</exception>
    public static void Launch<T>(
        CudaKernel kernel,
        in LaunchConfiguration configuration,
        DevicePointer<T> q,
        DevicePointer<T> k,
        DevicePointer<T> v,
        DevicePointer<T> o,
        DevicePointer<float> lse,
        DevicePointer<float> probs,
        DevicePointer<bool> mask,
        DevicePointer<float> bias,
        DevicePointer<int> keyLengths,
        int batch,
        int qHeads,
        int kvHeads,
        int qLen,
        int kLen,
        int headDim,
        int valueDim,
        long qStrideB,
        long qStrideH,
        long qStrideS,
        long kStrideB,
        long kStrideH,
        long kStrideS,
        long vStrideB,
        long vStrideH,
        long vStrideS,
        long oStrideB,
        long oStrideH,
        long oStrideS,
        long maskStrideB,
        long maskStrideH,
        long biasStrideB,
        long biasStrideH,
        float scale,
        float softcap,
        int causal,
        int windowLeft,
        int windowRight)
        where T : unmanaged
    {
        ulong qAddress = q.Address;
        ulong kAddress = k.Address;
        ulong vAddress = v.Address;
        ulong oAddress = o.Address;
        ulong lseAddress = lse.Address;
        ulong probsAddress = probs.Address;
        ulong maskAddress = mask.Address;
        ulong biasAddress = bias.Address;
        ulong keyLengthsAddress = keyLengths.Address;

        void** arguments = stackalloc void*[ParameterCount]
        {
            &qAddress, &kAddress, &vAddress, &oAddress, &lseAddress, &probsAddress, &maskAddress, &biasAddress,
            &keyLengthsAddress,
            &batch, &qHeads, &kvHeads, &qLen, &kLen, &headDim, &valueDim,
            &qStrideB, &qStrideH, &qStrideS, &kStrideB, &kStrideH, &kStrideS,
            &vStrideB, &vStrideH, &vStrideS, &oStrideB, &oStrideH, &oStrideS,
            &maskStrideB, &maskStrideH, &biasStrideB, &biasStrideH,
            &scale, &softcap, &causal, &windowLeft, &windowRight,
        };
        KernelLauncher.Launch(kernel.Function, configuration, arguments, kernel.Name);
    }
}
