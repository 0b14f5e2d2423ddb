// 8-bit K/V for the 16-bit split-KV path (attention_splitkv_partial_{i8,e4m3}_{f16,bf16}): the storage codes of
// AttentionParams' kv_format, the conversion of a pair of stored bytes to the pair of 16-bit elements an mma operand
// register holds, and the scale copies.
//
// The stages hold the bytes as stored (cp.async, no widening in memory); each lane converts the bytes of its own
// fragments in registers, so the mmas run on exact 16-bit images of the stored values:
//   int8  (kKvInt8): q in [−128, 127] is exact in f16 and bf16. f16 by the magic number 0x6400 (1024 + q + 128,
//         one f16x2 subtraction a pair); bf16 as the upper half of float(q), itself by the magic number 0x4B000000
//         (one FADD an element), no cvt. The per-key K scale multiplies the fp32 scores, the per-key V scale folds
//         into P before P·V.
//   e4m3  (kKvE4m3, OCP e4m3fn: bias 7, no infinities): for f16 the 7 magnitude bits shifted left by 7 are the
//         f16 bits of the value · 2^−8, subnormals included (f16 keeps them), so the pair is two shifts and masks
//         and the 2^8 joins the per-head scales; for bf16 the upper half of the value's float (exponent rebiased
//         by 120, the 7 subnormal codes as m · 2^−9). The NaN codes 0x7F and 0xFF (the layers' quantiser writes
//         them for a NaN element) read as NaN, so that it reaches the output as it would unquantised: one add, mask
//         and multiply a pair (f16), one select an element (bf16). The per-head K scale multiplies the scores, the
//         per-head V scale the finished output.
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

// The float bits of a stored byte's value, exactly: int8 here, e4m3 below (kKvElement never stores bytes).
template <int kKv>
__device__ __forceinline__ uint32_t byte_float_bits(uint32_t byte) {
  const float f = float_from_bits(0x4B000000u | (byte ^ 0x80u)) - 8388736.0f;  // 2^23 + q + 128, less 2^23 + 128
  uint32_t bits;
  memcpy(&bits, &f, sizeof bits);
  return bits;
}

template <>
__device__ __forceinline__ uint32_t byte_float_bits<kKvE4m3>(uint32_t byte) {
  const uint32_t magnitude = byte & 0x7Fu;
  uint32_t bits = (magnitude << 20) + (120u << 23);  // exponent rebiased from 7 to 127
  if (magnitude < 8u) {  // the subnormals m · 2^−9 (and zero): 2^−6 · (1 + m/8), read as a normal, less 2^−6
    const float f = float_from_bits(bits + (1u << 23)) - 0.015625f;
    memcpy(&bits, &f, sizeof bits);
  }
  bits = magnitude == 0x7Fu ? 0x7FC00000u : bits;  // NaN
  return bits | ((byte & 0x80u) << 24);
}

// Bytes 0 and 1 of `two` (byte 0 the lower element) as an mma operand register of T. bf16: the upper halves of the
// two floats' bits — both values have at most 8 significant bits, so that is exact, and no cvt is issued.
template <typename T, int kKv>
__device__ __forceinline__ uint32_t widen_pair(uint32_t two) {
  return (byte_float_bits<kKv>(two & 0xFFu) >> 16) | (byte_float_bits<kKv>((two >> 8) & 0xFFu) & 0xFFFF0000u);
}

// a − b on two f16 pairs.
__device__ __forceinline__ uint32_t sub_f16x2(uint32_t a, uint32_t b) {
#ifdef ATTENTION_EMULATION
  auto half_of = [](uint32_t bits) {
    __half_raw raw;
    raw.x = static_cast<unsigned short>(bits & 0xFFFFu);
    return __half2float(__half(raw));
  };
  return wm::pack_pair<__half>(half_of(a) - half_of(b), half_of(a >> 16) - half_of(b >> 16));
#else
  uint32_t d;
  asm("sub.f16x2 %0, %1, %2;\n" : "=r"(d) : "r"(a), "r"(b));
  return d;
#endif
}

// int8 into f16: 0x6400 | (q ^ 0x80) is the f16 1024 + q + 128 (its step is 1 up to 2048); one f16x2 subtraction of
// 1152 (0x6480) leaves q, exactly.
template <>
__device__ __forceinline__ uint32_t widen_pair<__half, kKvInt8>(uint32_t two) {
  const uint32_t spread = (two & 0xFFu) | ((two & 0xFF00u) << 8);  // byte 1 into bits 16-23
  return sub_f16x2((spread ^ 0x00800080u) | 0x64006400u, 0x64806480u);
}

// e4m3 into f16: the value · 2^−8 (kWidenFactor undoes it through the scales), by shifts alone.
template <>
__device__ __forceinline__ uint32_t widen_pair<__half, kKvE4m3>(uint32_t two) {
  const uint32_t spread = (two & 0xFFu) | ((two & 0xFF00u) << 8);  // byte 1 into bits 16-23
  const uint32_t magnitude = spread & 0x007F007Fu;
  // A NaN code's magnitude 0x7F carries into bit 7 when 1 is added; 0x80 · 0xFC is 0x7E00, an f16 NaN's bits.
  const uint32_t nan = ((magnitude + 0x00010001u) & 0x00800080u) * 0xFCu;
  return (magnitude << 7) | ((spread & 0x00800080u) << 8) | nan;
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
