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

// The rows of batch entry b: in a varlen call (cu_seqlens_q set) packed sequence b — its first query and key rows,
// which the kernels add to their q, o and k, v row indices, and its own lengths, which replace q_len (in the causal
// and window diagonal too) and the key length; in a padded call rows from 0, q_len queries and key_length_of keys.
// Lengths are clamped to the launch's q_len and k_len (the managed validator keeps them there), so a bad offset cannot
// send a kernel past its grid.
struct SequenceRows {
  long long q_first;
  long long k_first;
  int q_len;
  int k_len;
};

// The first packed query and key rows of batch entry b alone, for kernels that read them where they use them rather
// than hold them in registers (attention_mma's key loop and epilogue).
template <typename T>
__device__ __forceinline__ int first_query_row(const AttentionParams<T>& params, int b) {
  return params.cu_seqlens_q == nullptr ? 0 : params.cu_seqlens_q[b];
}

template <typename T>
__device__ __forceinline__ int first_key_row(const AttentionParams<T>& params, int b) {
  return params.cu_seqlens_k == nullptr ? 0 : params.cu_seqlens_k[b];
}

template <typename T>
__device__ __forceinline__ SequenceRows sequence_rows(const AttentionParams<T>& params, int b) {
  if (params.cu_seqlens_q == nullptr) {
    return SequenceRows{0, 0, params.q_len, key_length_of(params.key_lengths, b, params.k_len)};
  }
  const int q0 = params.cu_seqlens_q[b];
  const int k0 = params.cu_seqlens_k[b];
  return SequenceRows{q0, k0, min(max(params.cu_seqlens_q[b + 1] - q0, 0), params.q_len),
                      min(max(params.cu_seqlens_k[b + 1] - k0, 0), params.k_len)};
}

// Where row i of query head h of batch entry b (whose first packed query row is q_first) keeps its log-sum-exp:
// [B, Hq, Lq] in a padded call, [Hq, total_q] in a varlen one (FlashAttention's varlen softmax_lse).
template <typename T>
__device__ __forceinline__ long long lse_index(const AttentionParams<T>& params, long long q_first, int b, int h,
                                               int i) {
  return params.cu_seqlens_q == nullptr ? (static_cast<long long>(b) * params.q_heads + h) * params.q_len + i
                                        : static_cast<long long>(h) * params.total_q + q_first + i;
}

// A row's sink folded into its finished softmax: the row's output O = acc / l and lse = m + ln l (−∞ for a row that
// saw no key) become O · factor and lse' = ln(exp(lse) + exp(sink)), the sink being one more denominator term with no
// value row (Managed/Attention.Native/Reference/ReferenceAttention.cs). A row that saw no key keeps O = 0 and gets
// lse' = sink. Without a sink (−∞) the factor is 1 and lse is unchanged.
struct SinkFold {
  float factor;
  float lse;
};

__device__ __forceinline__ SinkFold fold_sink(float lse, float sink) {
  if (sink == -INFINITY || lse == -INFINITY) {
    return SinkFold{lse == -INFINITY ? 0.0f : 1.0f, fmaxf(lse, sink)};
  }
  const float top = fmaxf(lse, sink);
  const float total = top + logf(expf(lse - top) + expf(sink - top));
  return SinkFold{expf(lse - total), total};
}

template <typename T>
__device__ __forceinline__ float sink_of(const AttentionParams<T>& params, int h) {
  return params.sinks == nullptr ? -INFINITY : params.sinks[h];
}

}  // namespace attention
