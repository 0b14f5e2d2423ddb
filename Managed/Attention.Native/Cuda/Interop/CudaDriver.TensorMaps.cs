using System.Runtime.InteropServices;

namespace Attention.Native.Cuda.Interop;

/// <summary>TMA tensor maps (CUDA 12.0+ drivers): <c>cuTensorMapEncodeTiled</c>.</summary>
internal static unsafe partial class CudaDriver
{
    /// <summary>Encodes a tiled tensor map of a <paramref name="rank"/>-dimensional global tensor: dims and box
    /// innermost first, <paramref name="globalStrides"/> in bytes for dims 1..rank−1 (dim 0 is contiguous).</summary>
    [LibraryImport(Library)]
    public static partial CudaResult cuTensorMapEncodeTiled(
        TensorMap* tensorMap,
        TensorMapDataType dataType,
        uint rank,
        ulong globalAddress,
        ulong* globalDims,
        ulong* globalStrides,
        uint* boxDims,
        uint* elementStrides,
        TensorMapInterleave interleave,
        TensorMapSwizzle swizzle,
        TensorMapL2Promotion l2Promotion,
        TensorMapFloatOobFill oobFill);
}

/// <summary><c>CUtensorMapDataType</c> (the element types the attention kernels read by TMA).</summary>
internal enum TensorMapDataType
{
    Float16 = 6,
    BFloat16 = 9,
}

/// <summary><c>CUtensorMapInterleave</c>.</summary>
internal enum TensorMapInterleave
{
    None = 0,
}

/// <summary><c>CUtensorMapSwizzle</c>: the shared-memory layout TMA writes (the wgmma descriptors read the same).</summary>
internal enum TensorMapSwizzle
{
    None = 0,
    Swizzle32B = 1,
    Swizzle64B = 2,
    Swizzle128B = 3,
}

/// <summary><c>CUtensorMapL2promotion</c>.</summary>
internal enum TensorMapL2Promotion
{
    None = 0,
    L2Promotion64B = 1,
    L2Promotion128B = 2,
    L2Promotion256B = 3,
}

/// <summary><c>CUtensorMapFloatOOBfill</c>: None fills out-of-bounds elements with zeros.</summary>
internal enum TensorMapFloatOobFill
{
    None = 0,
}
