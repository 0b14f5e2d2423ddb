using Attention.Native.Cuda.Interop;

namespace Attention.Native.Cuda;

/// <summary>The launch limits of one kernel on one device, against which a launch is checked before it is made.</summary>
/// <param name="MaxDynamicSharedBytes">Dynamic shared memory a block may use (opt-in maximum less the static use).</param>
/// <param name="MaxGridY">Largest grid y dimension.</param>
/// <param name="MaxGridZ">Largest grid z dimension.</param>
internal readonly record struct KernelLimits(int MaxDynamicSharedBytes, int MaxGridY, int MaxGridZ);

/// <summary>A kernel of a loaded module: its <c>CUfunction</c>, name and limits (the module owns the function).</summary>
/// <param name="Function">The <c>CUfunction</c>.</param>
/// <param name="Name">The entry point, e.g. <c>attention_simt_f32</c>.</param>
/// <param name="Limits">What a launch may ask for.</param>
internal sealed unsafe record CudaKernel(nint Function, string Name, KernelLimits Limits)
{
    /// <summary>
    /// Looks <paramref name="name"/> up in <paramref name="module"/> and opts it in to all the shared memory the device
    /// allows (<c>CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES</c>; without it a launch may use only 48 KB).
    /// </summary>
    /// <exception cref="CudaException">The module has no such kernel, or the driver refused an attribute.</exception>
    public static CudaKernel Get(CudaModuleHandle module, string name, CudaDeviceInfo device)
    {
        nint function = module.GetFunction(name);
        int staticShared = 0;
        CudaErrors.Check(
            CudaDriver.cuFuncGetAttribute(&staticShared, CudaFunctionAttribute.SharedSizeBytes, function), "cuFuncGetAttribute");
        int dynamicShared = Math.Max(0, device.MaxSharedBytesOptIn - staticShared);
        CudaErrors.Check(
            CudaDriver.cuFuncSetAttribute(function, CudaFunctionAttribute.MaxDynamicSharedSizeBytes, dynamicShared),
            "cuFuncSetAttribute");
        return new CudaKernel(function, name, new KernelLimits(dynamicShared, device.MaxGridY, device.MaxGridZ));
    }
}
