// The one parameter of every attention backward entry point (attention_backward_prepare, attention_backward_simt,
// attention_backward_dq): the backward's launch contract written once, as AttentionParams is the forward's. A struct
// of its own rather than fields appended to AttentionParams: the backward reads the forward's output, its
// log-sum-exp and dO, writes three gradients and needs two workspaces, none of which a forward kernel has a use for.
// The launcher generator (Managed/Attention.Native.Generators) emits the C# struct
// Attention.Native.Cuda.Interop.AttentionBackwardParams<T> with the same fields in the same order (Native/README.md,
// "Entry-point conventions"); KernelParamsLayoutTests holds the two layouts together.
//
// Pointers first, then the 64-bit strides, then the 32-bit fields: C puts no padding between them.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace attention {

// T is the element type of q, k, v, o, dO and the gradients dQ, dK, dV: float, __half or __nv_bfloat16. Strides are
// in elements; the last dimension of every [B, H, L, D] operand is contiguous.
template <typename T>
struct AttentionBackwardParams {
  const T* q;                   // [B, Hq, Lq, D] at the strides below
  const T* k;                   // [B, Hkv, Lk, D]
  const T* v;                   // [B, Hkv, Lk, Dv]
  const T* o;                   // [B, Hq, Lq, Dv] the forward's output
  const T* d_o;                 // [B, Hq, Lq, Dv] the gradient of the output
  const float* lse;             // [B, Hq, Lq] the forward's natural-log sum of exps, −∞ for fully masked rows
  T* dq;                        // [B, Hq, Lq, D] written by attention_backward_dq from dq_accum
  T* dk;                        // [B, Hkv, Lk, D] summed over the query heads of a group
  T* dv;                        // [B, Hkv, Lk, Dv] summed over the query heads of a group
  float* bias_grad;             // [B|1, Hq|1, Lq, Lk] at the bias's strides, zeroed by the launcher; may be null
  float* dq_accum;              // workspace [B, Hq, Lq, D] contiguous: fp32 dQ, zeroed by attention_backward_prepare
  float* delta;                 // workspace [B, Hq, Lq]: D = rowsum(dO ∘ O), written by attention_backward_prepare
  const unsigned char* mask;    // [B|1, Hq|1, Lq, Lk] boolean mask, non-zero = attend; may be null
  const float* bias;            // [B|1, Hq|1, Lq, Lk] added to the scores; may be null
  const int* key_lengths;       // [B] valid key counts in [0, Lk]; may be null
  const float* sinks;           // [Hq] the forward's sink logits; read only where sink_grad is set
  float* sink_grad;             // [Hq] dSink, zeroed by the launcher, added to by attention_backward_prepare; may be null
  long long q_stride_b, q_stride_h, q_stride_s;
  long long k_stride_b, k_stride_h, k_stride_s;
  long long v_stride_b, v_stride_h, v_stride_s;
  long long o_stride_b, o_stride_h, o_stride_s;
  long long do_stride_b, do_stride_h, do_stride_s;
  long long dq_stride_b, dq_stride_h, dq_stride_s;
  long long dk_stride_b, dk_stride_h, dk_stride_s;
  long long dv_stride_b, dv_stride_h, dv_stride_s;
  long long mask_stride_b, mask_stride_h;  // 0 where broadcast; the row stride is k_len
  long long bias_stride_b, bias_stride_h;  // 0 where broadcast; the row stride is k_len; bias_grad's too
  int batch, q_heads, kv_heads, q_len, k_len, head_dim, value_dim;
  float scale;
  float softcap;                // 0 = off
  int causal;                   // 0 none, 1 top-left, 2 bottom-right
  int window_left, window_right;  // −1 = unbounded
};

}  // namespace attention
