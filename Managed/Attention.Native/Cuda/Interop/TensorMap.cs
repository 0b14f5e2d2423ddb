using System.Runtime.CompilerServices;

namespace Attention.Native.Cuda.Interop;

/// <summary>
/// A <c>CUtensorMap</c>: 128 opaque bytes that <c>cuTensorMapEncodeTiled</c> writes and a TMA kernel reads from its
/// parameter space (<c>hopper::TensorMap</c> in Native/hopper/hopper_ptx.cuh, 64-byte aligned there; the parameter
/// structs hold it at offsets that are multiples of 64, which the generator checks).
/// </summary>
[InlineArray(16)]
internal struct TensorMap
{
    private ulong element;
}
