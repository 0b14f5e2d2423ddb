namespace Attention.Native.Layers;

/// <summary>
/// Backend buffers a layer reuses between calls (projections, context, probabilities), grown on demand: allocating
/// per call would zero megabytes each time (the CPU allocator zeroes) or hit cuMemAlloc on the GPU. A slot holds one
/// element type at a time (a layer's operands are of its element type; probabilities are always float).
/// </summary>
internal sealed class LayerScratch(AttentionBackend backend) : IDisposable
{
    private readonly IDisposable?[] slots = new IDisposable?[7];

    public const int Projections = 0;
    public const int Context = 1;
    public const int Probabilities = 2;
    public const int Spare = 3;

    // An int8 paged cache's pages dequantised for a call the int8 decode kernel does not take.
    public const int DequantizedKeys = 4;
    public const int DequantizedValues = 5;

    // The context rows of a paged call whose sequences are gathered (the gathered queries take Spare).
    public const int GatheredContext = 6;

    /// <summary>Slot <paramref name="slot"/> with at least <paramref name="length"/> elements (its contents are undefined).</summary>
    public AttentionTensor<T> Get<T>(int slot, long length)
        where T : unmanaged
    {
        if (slots[slot] is AttentionTensor<T> tensor && tensor.Length >= length)
        {
            return tensor;
        }

        backend.Synchronize();
        slots[slot]?.Dispose();
        slots[slot] = null;
        var grown = backend.Allocate<T>(Math.Max(length, 1));
        slots[slot] = grown;
        return grown;
    }

    public void Dispose()
    {
        foreach (var tensor in slots)
        {
            tensor?.Dispose();
        }
    }
}
