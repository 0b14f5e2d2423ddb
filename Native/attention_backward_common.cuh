// Pieces both backward middle kernels share (attention_backward_simt in attention_backward.cu and
// attention_backward_mma in attention_backward_mma.cu): one query head's operand pointers, the query-block skip, and
// the gradient of one (query row, key) pair from its two dot products — where every forward option enters.
#pragma once

#include "attention_backward_params.cuh"
#include "attention_common.cuh"

namespace attention {

// [B, Hq, Lq] order, the lse's and the workspaces'.
__device__ __forceinline__ long long backward_row(int b, int h, int i, int q_heads, int q_len) {
  return (static_cast<long long>(b) * q_heads + h) * q_len + i;
}

// Query head h of batch entry b: its Q and dO rows, and its mask, bias and bias-gradient planes (null when absent).
template <typename T>
struct BackwardHead {
  const T* q;
  const T* d_o;
  const unsigned char* mask;
  const float* bias;
  float* bias_grad;
};

template <typename T>
__device__ __forceinline__ BackwardHead<T> backward_head(const AttentionBackwardParams<T>& params, int b, int h) {
  BackwardHead<T> head;
  head.q = params.q + b * params.q_stride_b + h * params.q_stride_h;
  head.d_o = params.d_o + b * params.do_stride_b + h * params.do_stride_h;
  head.mask = params.mask == nullptr ? nullptr : params.mask + b * params.mask_stride_b + h * params.mask_stride_h;
  head.bias = params.bias == nullptr ? nullptr : params.bias + b * params.bias_stride_b + h * params.bias_stride_h;
  head.bias_grad =
      params.bias_grad == nullptr ? nullptr : params.bias_grad + b * params.bias_stride_b + h * params.bias_stride_h;
  return head;
}

// Whether any of the query rows [m0, m0 + block_m) sees a key of [n0, n1) under the key length, causal mask and
// window: a block none of whose rows does is skipped. Every thread computes the same answer.
template <typename T>
__device__ __forceinline__ bool query_block_sees_keys(const AttentionBackwardParams<T>& params, int m0, int block_m,
                                                      int key_length, int n0, int n1) {
  bool any = false;
  for (int r = 0; r < block_m && m0 + r < params.q_len; ++r) {
    const KeyRange range =
        key_range(m0 + r, params.q_len, key_length, params.causal, params.window_left, params.window_right);
    any = any || (range.lo < n1 && range.hi > n0);
  }
  return any;
}

// Whether row i sees key `key` (key length, causal, window, boolean mask); `at` is the pair's index in the mask and
// bias planes (rows k_len apart).
template <typename T>
__device__ __forceinline__ bool pair_visible(const AttentionBackwardParams<T>& params, const BackwardHead<T>& head,
                                             int i, int key, int key_length, long long at) {
  const KeyRange range = key_range(i, params.q_len, key_length, params.causal, params.window_left, params.window_right);
  return key >= range.lo && key < range.hi && (head.mask == nullptr || __ldg(&head.mask[at]) != 0);
}

// P and G of a visible pair from dot = q·k and dp = dO·v: the score as the forward computes it (scale, softcap, bias),
// P = exp(s − lse), dS = P ∘ (dp − delta) (added to the bias gradient), G = dS · (1 − tanh²) · scale. A −∞ bias
// gives P = G = 0, as the forward's p = 0.
template <typename T>
__device__ __forceinline__ void pair_gradient(const AttentionBackwardParams<T>& params, const BackwardHead<T>& head,
                                              long long at, float dot, float dp, float lse, float delta, float& p,
                                              float& g) {
  float s = dot * params.scale;
  float slope = 1.0f;  // d(capped score) / d(scaled score)
  if (params.softcap > 0.0f) {
    const float capped = tanhf(s / params.softcap);
    s = params.softcap * capped;
    slope = fmaf(-capped, capped, 1.0f);
  }
  if (head.bias != nullptr) {
    s += __ldg(&head.bias[at]);
  }
  p = 0.0f;
  g = 0.0f;
  if (s != -INFINITY) {
    p = expf(s - lse);
    const float ds = p * (dp - delta);
    if (head.bias_grad != nullptr) {
      atomicAdd(&head.bias_grad[at], ds);
    }
    g = ds * slope * params.scale;
  }
}

}  // namespace attention
