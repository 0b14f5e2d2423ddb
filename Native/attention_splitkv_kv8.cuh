// 8-bit K/V for the 16-bit split-KV path (attention_splitkv_partial_{i8,e4m3}_{f16,bf16}): the storage codes of
// AttentionParams' kv_format, the conversion of a pair of stored bytes to the pair of 16-bit elements an mma operand
// register holds, and the scale copies.
//
// The stages hold the bytes as stored (cp.async, no widening in memory); each lane converts the bytes of its own
// fragments in registers, so the mmas run on exact 16-bit images of the stored values:
//   int8  (kKvInt8): q in [−128, 127] is exact in f16 and bf16. float(q) by the magic-number trick
//         (0x4B000000 | (q ^ 0x80) is 2^23 + q + 128 as a float; one FADD takes the offset off), then one cvt per
//         pair. The per-key K scale multiplies the fp32 scores, the per-key V scale folds into P before P·V.
//   e4m3  (kKvE4m3, OCP e4m3fn: bias 7, no infinities): for f16 the 7 magnitude bits shifted left by 7 are the
//         f16 bits of the value · 2^−8, subnormals included (f16 keeps them), so the pair is two shifts and masks
//         and the 2^8 joins the per-head scales; for bf16 the float of the value (exponent rebiased by 120, the 7
//         subnormal codes as m · 2^−9) and one cvt per pair. The NaN codes 0x7F and 0xFF read as ±480, the next
//         step past 448: the kernels never test for them (a quantiser writes none). The per-head K scale multiplies
//         the scores, the per-head V scale the finished output.
#pragma once

#include <stdint.h>
#include <string.h>

#include "attention_splitkv_copy.cuh"

namespace attention {
namespace splitkv {

// AttentionParams::kv_format.
constexpr int kKvElement = 0;  // k and v hold T
constexpr int kKvInt8 = 1;     // signed bytes, one float scale per (batch, kv head, key) for each
constexpr int kKvE4m3 = 2;     // fp8 e4m3fn bytes, one float scale per (batch, kv head) for each

// The stored element of a format: T itself, or a byte.
template <typename T, int kKv>
struct KvStorage {
  using type = unsigned char;
};
template <typename T>
struct KvStorage<T, kKvElement> {
  using type = T;
};

__device__ __forceinline__ float float_from_bits(uint32_t bits) {
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

// The value of a stored byte as a float, exactly: int8 here, e4m3 below (kKvElement never stores bytes).
template <int kKv>
__device__ __forceinline__ float byte_value(uint32_t byte) {
  return float_from_bits(0x4B000000u | (byte ^ 0x80u)) - 8388736.0f;  // 2^23 + 128
}

template <>
__device__ __forceinline__ float byte_value<kKvE4m3>(uint32_t byte) {
  const uint32_t magnitude = byte & 0x7Fu;
  const float f = magnitude >= 8u ? float_from_bits((magnitude << 20) + (120u << 23))
                                  : static_cast<float>(magnitude) * 0.001953125f;  // 2^−9
  return (byte & 0x80u) != 0u ? -f : f;
}

// Bytes 0 and 1 of `two` (byte 0 the lower element) as an mma operand register of T.
template <typename T, int kKv>
__device__ __forceinline__ uint32_t widen_pair(uint32_t two) {
  return wm::pack_pair<T>(byte_value<kKv>(two & 0xFFu), byte_value<kKv>((two >> 8) & 0xFFu));
}

// e4m3 into f16: the value · 2^−8 (kE4m3HalfFactor undoes it through the scales), by shifts alone.
template <>
__device__ __forceinline__ uint32_t widen_pair<__half, kKvE4m3>(uint32_t two) {
  const uint32_t spread = (two & 0xFFu) | ((two & 0xFF00u) << 8);  // byte 1 into bits 16-23
  return ((spread & 0x007F007Fu) << 7) | ((spread & 0x00800080u) << 8);
}

// What the conversion leaves out of an element, restored through the per-head scales: 2^8 for e4m3 into f16.
template <typename T, int kKv>
constexpr float kWidenFactor = 1.0f;
template <>
constexpr float kWidenFactor<__half, kKvE4m3> = 256.0f;

// A 4-byte cp.async.ca of one scale (src_bytes 0: zeros), for the per-key int8 scales, which sit beside their row
// in the stage.
#ifdef ATTENTION_EMULATION
inline void cp_async_4(SharedAddress dst, const void* src, int src_bytes) {
  wm::cp_async_4(const_cast<unsigned char*>(dst), src, src_bytes);
}
#else
__device__ __forceinline__ void cp_async_4(SharedAddress dst, const void* src, int src_bytes) {
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(dst), "l"(src), "r"(src_bytes));
}
#endif

// Element offset of scale (row, key) — row the batch entry, or a paged call's page, key the key or its slot.
template <typename T>
__device__ __forceinline__ long long scale_offset(const AttentionParams<T>& params, long long row, int kv_head,
                                                  long long key) {
  return row * params.scale_stride_b + kv_head * params.scale_stride_h + key * params.scale_stride_s;
}

}  // namespace splitkv
}  // namespace attention
