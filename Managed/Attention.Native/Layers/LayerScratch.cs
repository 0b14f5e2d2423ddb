namespace Attention.Native.Layers;

/// <summary>
/// Backend buffers a layer reuses between calls (projections, context, weights), grown on demand: allocating per
/// call would zero megabytes each time (the CPU allocator zeroes) or hit cuMemAlloc on the GPU.
/// </summary>
internal sealed class LayerScratch(AttentionBackend backend) : IDisposable
{
    private readonly AttentionTensor<float>?[] slots = new AttentionTensor<float>?[4];

    public const int Projections = 0;
    public const int Context = 1;
    public const int Probabilities = 2;
    public const int Spare = 3;

    /// <summary>Slot <paramref name="slot"/> with at least <paramref name="length"/> elements (its contents are undefined).</summary>
    public AttentionTensor<float> Get(int slot, long length)
    {
        var tensor = slots[slot];
        if (tensor is null || tensor.Length < length)
        {
            backend.Synchronize();
            tensor?.Dispose();
            tensor = slots[slot] = backend.Allocate<float>(Math.Max(length, 1));
        }

        return tensor;
    }

    public void Dispose()
    {
        foreach (var tensor in slots)
        {
            tensor?.Dispose();
        }
    }
}
