// Global → shared copies of the split-KV kernel: rows of Q, K or V widened to float, 16 bytes of the element type
// per load (4 floats, 8 halves or 8 bfloat16s) where the operand is 16-byte aligned, one element at a time where it
// is not (strides are the caller's and may leave rows unaligned). Shared rows are padded to a multiple of 8 floats
// with zeros, so the dot products can run over whole float4s with no tail.
#pragma once

#include "attention_common.cuh"

namespace attention {
namespace splitkv {

constexpr int kVectorBytes = 16;

// The padded length of a shared row of `dim` elements: whole chunks of 8 (two float4s, or one 16-byte load of a
// 2-byte type).
__host__ __device__ constexpr int padded_dim(int dim) { return (dim + 7) / 8 * 8; }

// Whether every row of an operand starts on a 16-byte boundary: its base and all three strides (in elements).
template <typename T>
__device__ __forceinline__ bool rows_aligned(const T* base, long long stride_b, long long stride_h, long long stride_s) {
  const unsigned long long bytes = sizeof(T);
  return ((reinterpret_cast<unsigned long long>(base) | static_cast<unsigned long long>(stride_b) * bytes |
           static_cast<unsigned long long>(stride_h) * bytes | static_cast<unsigned long long>(stride_s) * bytes) %
          kVectorBytes) == 0;
}

// Writes floats [0, n) of a chunk to shared memory (16-byte aligned), as float4 stores.
template <int n>
__device__ __forceinline__ void store_floats(const float (&x)[n], float* dst) {
  for (int t = 0; t < n; t += 4) {
    *reinterpret_cast<float4*>(dst + t) = make_float4(x[t], x[t + 1], x[t + 2], x[t + 3]);
  }
}

// Copies the chunk of one row that starts at `src`: its first `count` elements (count may be ≤ 0 or past the chunk)
// widened to float, zeros after them, into the 16 / sizeof(T) floats at `dst`.
template <typename T>
__device__ __forceinline__ void copy_chunk(const T* src, int count, bool aligned, float* dst) {
  constexpr int n = kVectorBytes / sizeof(T);
  float x[n];
  if (aligned && count >= n) {
    const uint4 raw = *reinterpret_cast<const uint4*>(src);
    T e[n];
    memcpy(e, &raw, sizeof raw);
    for (int t = 0; t < n; ++t) x[t] = to_float(e[t]);
  } else {
    for (int t = 0; t < n; ++t) x[t] = t < count ? to_float(src[t]) : 0.0f;
  }
  store_floats(x, dst);
}

// Copies `rows` rows of `dim` elements (row r at src_row(r)) into shared rows `pitch` floats apart, the block's
// threads sharing the chunks in order (consecutive threads, consecutive 16 bytes: coalesced). Shared rows from
// `rows` to `total_rows` are zero-filled, so no lane ever reads a stale value there.
template <typename T, typename RowOf>
__device__ __forceinline__ void copy_rows(RowOf src_row, int rows, int total_rows, int dim, bool aligned, float* dst,
                                          int pitch, int thread, int threads) {
  constexpr int n = kVectorBytes / sizeof(T);
  const int chunks = padded_dim(dim) / n;
  for (int item = thread; item < total_rows * chunks; item += threads) {
    const int r = item / chunks;
    const int x = (item - r * chunks) * n;
    if (r < rows) {
      copy_chunk<T>(src_row(r) + x, dim - x, aligned, dst + r * pitch + x);
    } else {
      const float zeros[n] = {};
      store_floats(zeros, dst + r * pitch + x);
    }
  }
}

}  // namespace splitkv
}  // namespace attention
