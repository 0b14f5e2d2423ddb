using Attention.Native.Cpu.Gemm;

namespace Attention.Native.Layers;

/// <summary>
/// A projection's weight W, <c>[OutFeatures, InFeatures]</c> (PyTorch's Linear layout) at an offset of a layer's
/// weight tensor, and the form an engine keeps of it for its products: on the CPU, W packed as the SGEMM's B once,
/// at the first product, instead of at every one. The layer that owns the tensor calls <see cref="Changed"/> whenever
/// it writes the tensor, so the next product packs the new values.
/// </summary>
internal sealed class ProjectionWeight<T>(AttentionTensor<T> tensor, long offset, int outFeatures, int inFeatures) : IDisposable
    where T : unmanaged
{
    public AttentionTensor<T> Tensor => tensor;

    public LayerOperand<T> Operand => new(tensor, offset);

    public int OutFeatures => outFeatures;

    public int InFeatures => inFeatures;

    /// <summary>W packed by the CPU engine, or null until its first product and after <see cref="Changed"/>.</summary>
    public SgemmPackedB? Packed { get; set; }

    /// <summary>The tensor's values were written: what was prepared from them is dropped.</summary>
    public void Changed()
    {
        Packed?.Dispose();
        Packed = null;
    }

    public void Dispose() => Changed();
}
