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

    /// <summary>
    /// OCP fp8 e4m3fn bytes (1 sign, 4 exponent bits of bias 7, 3 mantissa bits; no infinities; largest finite 448)
    /// with one float scale per KV head for keys and one for values, shared by every sequence, page and position of the
    /// cache, as vLLM's fp8 KV cache: an element <c>x</c> is stored as <c>e4m3(x / s)</c>, rounded to nearest (ties to
    /// even) and saturated at ±448 (an infinity too; NaN stays NaN), and stands for <c>e4m3·s</c>. The scales are the
    /// caller's (<see cref="KeyValueScales"/>, calibrated like vLLM's <c>k_scale</c>/<c>v_scale</c>, given to
    /// <see cref="MultiHeadAttention{T}.CreateCache"/> or <see cref="MultiHeadAttention{T}.CreatePagedCache"/>), or,
    /// when not given, taken at the cache's first append as <c>max|x| / 448</c> per KV head over that append's finite
    /// elements (vLLM's <c>calculate_kv_scales</c>; 1 for a head whose first append is all zero; kept through
    /// <see cref="KeyValueCache{T}.Reset"/>); a later element beyond
    /// <c>448·s</c> saturates. Within range an element is within a relative 2^−4 of <c>|x|</c> (3 mantissa bits, half a
    /// step), plus half the subnormal spacing, <c>2^−10·s</c>, near zero (see docs/layers.md). A position costs
    /// <c>Hkv·(D + Dv)</c> bytes. Read as <see cref="Int8"/> is: the CPU decode kernel converts the bytes in registers
    /// for every element type; the CUDA 8-bit split-KV kernel reads them for Half and BFloat16 layers; any other step
    /// dequantises the positions it reads first (on the GPU for CUDA).
    /// </summary>
    Float8E4M3,
}
