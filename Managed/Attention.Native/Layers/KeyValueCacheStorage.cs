namespace Attention.Native.Layers;

/// <summary>How a <see cref="KeyValueCache{T}"/> stores its keys and values.</summary>
public enum KeyValueCacheStorage
{
    /// <summary>In the layer's element type <c>T</c> (float, Half or BFloat16), exactly as projected.</summary>
    Element,

    /// <summary>
    /// Signed bytes with one float scale per (sequence, position, KV head), for keys and values each: a row of
    /// <c>D</c> projected elements <c>x</c> is stored as <c>q = round(x / s)</c> with <c>s = max|x| / 127</c>, so each
    /// element is within <c>s/2</c> of its projection, and a position costs <c>Hkv·(D + Dv + 8)</c> bytes instead of
    /// <c>Hkv·(D + Dv)·sizeof(T)</c>. The CPU backend's decode kernel reads it, dequantising in registers; a step the
    /// decode kernel does not take (more than four new tokens, attention weights) dequantises the cache into the
    /// layer's element type first. On the CUDA backend the cache lives in device memory and is quantised there, in
    /// the same format bit for bit; the 8-bit split-KV kernel reads it as it is for Half and BFloat16 layers (up to 16
    /// new tokens, no attention weights), and any other step dequantises the positions it reads on the GPU first.
    /// Accuracy: docs/layers.md.
    /// </summary>
    Int8,
}
