// Pieces every attention kernel shares: the parameter struct, element conversions, the warp sum and the per-row key
// range.
// The semantics are those of the managed side (Validation/AttentionProblem.cs, Reference/ReferenceAttention.cs);
// where a rule could be read two ways the managed code is the authority and the comment names it.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "attention_params.cuh"

namespace attention {

constexpr int kWarpSize = 32;
constexpr unsigned kFullWarp = 0xffffffffu;

// Operand loads widen to float and stores round to nearest even: the float accumulation the API promises for
// Half and bfloat16 storage.
__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(__half x) { return __half2float(x); }
__device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }

template <typename T> __device__ __forceinline__ T from_float(float x);
template <> __device__ __forceinline__ float from_float<float>(float x) { return x; }
template <> __device__ __forceinline__ __half from_float<__half>(float x) { return __float2half_rn(x); }
template <> __device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }

// Sum over the 32 lanes of a warp (all lanes active). The butterfly leaves the same bits in every lane, because
// each step adds the same two values (a + b on one lane, b + a on its partner, and float addition commutes), so
// every lane takes the same branches on the result.
__device__ __forceinline__ float warp_sum(float x) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
    x += __shfl_xor_sync(kFullWarp, x, offset);
  }
  return x;
}

// Max over the 32 lanes of a warp, the same bits in every lane (fmaxf commutes, as warp_sum's addition does).
__device__ __forceinline__ float warp_max(float x) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
    x = fmaxf(x, __shfl_xor_sync(kFullWarp, x, offset));
  }
  return x;
}

// The keys [lo, hi) query `i` may see under the key length, the causal mask and the window; the boolean mask and
// the bias then apply per score on top. A line-by-line port of AttentionProblem.KeyRange (64-bit like it):
//   length    keys j >= len are padding (len = key_lengths[b], or k_len);
//   diagonal  i + len - q_len: the bottom-right aligned diagonal, which the window also uses;
//   causal    1 top-left: j <= i;  2 bottom-right: j <= diagonal;
//   window    diagonal - left <= j <= diagonal + right, each side unbounded when negative.
// An empty range comes back as lo == hi.
struct KeyRange {
  int lo;
  int hi;
};

__device__ __forceinline__ KeyRange key_range(int i, int q_len, int key_length, int causal, int window_left,
                                              int window_right) {
  const long long len = key_length;
  const long long diagonal = static_cast<long long>(i) + len - q_len;
  long long lo = 0;
  long long hi = len;
  if (causal == 1) {
    hi = min(hi, static_cast<long long>(i) + 1);
  } else if (causal == 2) {
    hi = min(hi, diagonal + 1);
  }
  if (window_left >= 0) {
    lo = max(lo, diagonal - window_left);
  }
  if (window_right >= 0) {
    hi = min(hi, diagonal + window_right + 1);
  }
  lo = min(lo, len);
  hi = max(hi, lo);
  return KeyRange{static_cast<int>(lo), static_cast<int>(hi)};
}

// Valid keys of batch entry b: key_lengths[b] when given (the managed validator keeps it in [0, k_len]; clamped
// here too, so a bad value cannot send a kernel out of bounds), otherwise every key.
__device__ __forceinline__ int key_length_of(const int* key_lengths, int b, int k_len) {
  return key_lengths == nullptr ? k_len : min(max(key_lengths[b], 0), k_len);
}

}  // namespace attention
