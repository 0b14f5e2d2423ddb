// The global → shared copies of the split-KV partial kernels: 16-byte cp.async.cg (with or without zero-fill) on a
// shared-window address, and the plain-load stand-in for operands whose rows are not 16-byte aligned.
#pragma once

#include <stdint.h>

#include "attention_splitkv_tile.cuh"
#include "warp_matrix.cuh"

namespace attention {
namespace splitkv {

// Whether every row of an operand starts on a 16-byte boundary: its base and all three strides (in elements).
template <typename T>
__device__ __forceinline__ bool rows_aligned(const T* base, long long stride_b, long long stride_h, long long stride_s) {
  const unsigned long long bytes = sizeof(T);
  return ((reinterpret_cast<unsigned long long>(base) | static_cast<unsigned long long>(stride_b) * bytes |
           static_cast<unsigned long long>(stride_h) * bytes | static_cast<unsigned long long>(stride_s) * bytes) %
          kChunkBytes) == 0;
}

// The first `count` (0 … 16 / sizeof(T)) elements at `src` into the 16 bytes at `dst`, zeros after them: a
// zero-filling 16-byte cp.async's result, by plain loads, for operands whose rows are not 16-byte aligned
// (cp.async needs aligned sources). Synchronous, so slower, but the same layout and results.
template <typename T>
__device__ __forceinline__ void copy_chunk_plain(void* dst, const T* src, int count) {
  constexpr int n = kChunkBytes / static_cast<int>(sizeof(T));
  T e[n];
  for (int x = 0; x < n; ++x) e[x] = x < count ? src[x] : from_float<T>(0.0f);
  uint4 raw;
  memcpy(&raw, e, sizeof raw);
  *reinterpret_cast<uint4*>(dst) = raw;
}

// The same for the bytes of an 8-bit K/V format.
template <>
__device__ __forceinline__ void copy_chunk_plain<unsigned char>(void* dst, const unsigned char* src, int count) {
  unsigned char e[kChunkBytes];
  for (int x = 0; x < kChunkBytes; ++x) e[x] = x < count ? src[x] : 0;
  uint4 raw;
  memcpy(&raw, e, sizeof raw);
  *reinterpret_cast<uint4*>(dst) = raw;
}

// Shared memory as the copies and ldmatrix address it: a 32-bit shared-window address, converted from a generic
// pointer once per block rather than per instruction (on sm_90 each conversion is five uniform instructions). The
// emulation keeps host pointers.
#ifdef ATTENTION_EMULATION
using SharedAddress = const unsigned char*;
inline SharedAddress shared_address_of(const void* p) { return static_cast<const unsigned char*>(p); }
inline void cp_async_16(SharedAddress dst, const void* src, int src_bytes) {
  wm::cp_async_16(const_cast<unsigned char*>(dst), src, src_bytes);
}
inline void cp_async_16_full(SharedAddress dst, const void* src) {
  wm::cp_async_16(const_cast<unsigned char*>(dst), src, 16);
}
#else
using SharedAddress = uint32_t;
__device__ __forceinline__ SharedAddress shared_address_of(const void* p) { return wm::shared_address(p); }

// cp.async.cg of 16 bytes, the first src_bytes read and the rest zero-filled (Native/warp_matrix.cuh's, on a
// shared-window address).
__device__ __forceinline__ void cp_async_16(SharedAddress dst, const void* src, int src_bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(src_bytes));
}

// The same for a whole chunk: no src-size, so no zero-fill address arithmetic around it.
__device__ __forceinline__ void cp_async_16_full(SharedAddress dst, const void* src) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(dst), "l"(src));
}
#endif

}  // namespace splitkv
}  // namespace attention
