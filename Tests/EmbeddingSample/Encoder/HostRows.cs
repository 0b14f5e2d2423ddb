using Attention.Native;
using Attention.Native.Cpu;

namespace EmbeddingSample.Encoder;

/// <summary>
/// A backend tensor's first elements as floats on the host, for the steps that run there (embeddings, layer norms,
/// GELU, pooling). A float tensor of the CPU backend is its own memory, read and written in place; any other (a GPU's,
/// or Half) is copied out and widened by <see cref="Read"/> and narrowed and copied back by <see cref="Write"/>.
/// </summary>
/// <typeparam name="T">The tensor's element type: float or Half.</typeparam>
internal sealed class HostRows<T>
    where T : unmanaged
{
    private T[] narrow = [];
    private float[] wide = [];

    /// <summary>The first <paramref name="count"/> elements of <paramref name="tensor"/> as floats.</summary>
    public Span<float> Read(AttentionTensor<T> tensor, int count)
    {
        if (tensor is CpuTensor<float> cpu)
        {
            return cpu.AsSpan()[..count];
        }

        Grow(count);
        tensor.CopyTo(narrow.AsSpan(0, count));
        ElementType.Widen<T>(CpuKernelVariant.Auto, narrow.AsSpan(0, count), wide);
        return wide.AsSpan(0, count);
    }

    /// <summary>Empty floats of <paramref name="count"/> elements to fill and <see cref="Write"/> (in place on the CPU).</summary>
    /// <remarks>A count larger than any before replaces the host buffer: call it (or <see cref="Read"/>) once with that
    /// count before threads share the rows, so that they all get the same buffer.</remarks>
    public Span<float> Open(AttentionTensor<T> tensor, int count)
    {
        if (tensor is CpuTensor<float> cpu)
        {
            return cpu.AsSpan()[..count];
        }

        Grow(count);
        return wide.AsSpan(0, count);
    }

    /// <summary>Stores the floats <see cref="Read"/> or <see cref="Open"/> gave into <paramref name="tensor"/>.</summary>
    public void Write(AttentionTensor<T> tensor, int count)
    {
        if (tensor is CpuTensor<float>)
        {
            return;
        }

        ElementType.Narrow<T>(CpuKernelVariant.Auto, wide.AsSpan(0, count), narrow);
        tensor.CopyFrom(narrow.AsSpan(0, count));
    }

    private void Grow(int count)
    {
        if (narrow.Length < count)
        {
            narrow = new T[count];
            wide = new float[count];
        }
    }
}
