// The one parameter of the Hopper (sm_90a) attention entry points, attention_hopper_d<bucket>_{f16,bf16}
// (Native/attention_hopper.cu). A struct of its own rather than fields of AttentionParams (attention_params.cuh): its
// operands arrive as TMA tensor maps, which the host encodes per call (cuTensorMapEncodeTiled) and which must sit
// 64-byte aligned in the kernel's parameter space, and it has none of the mask, bias, probabilities or split-KV
// fields. The launcher generator (Managed/Attention.Native.Generators) emits its C# mirror, as for AttentionParams;
// the tensor maps come first, where the mirror's sequential layout puts them at C's 64-byte-aligned offsets, and the
// struct's 64-byte alignment (from theirs) makes it 512 bytes.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "hopper/hopper_ptx.cuh"

namespace attention {

// T is the element type of q, k, v and o: __half or __nv_bfloat16.
template <typename T>
struct HopperAttentionParams {
  // [B, H, L, D] as 4D maps with dims (D, L, H, B) innermost first, boxes of 64 columns (128 bytes, the 128-byte
  // swizzle's width) × the tile's rows × 1 × 1, 128-byte swizzle, zero fill outside the tensor (past L and past D).
  hopper::TensorMap q_map;      // box rows: the tile's kBlockM
  hopper::TensorMap k_map;      // box rows: kBlockN
  hopper::TensorMap v_map;      // box rows: kBlockN; dim 0 is Dv
  T* o;                         // [B, Hq, Lq, Dv] at the strides below
  float* lse;                   // [B, Hq, Lq] natural-log sum of exps, −∞ for fully masked rows; may be null
  const int* key_lengths;       // [B] valid key counts in [0, Lk]; may be null
  int batch, q_heads, kv_heads, q_len, k_len, head_dim, value_dim;
  int causal;                   // 0 none, 1 top-left, 2 bottom-right
  int window_left, window_right;  // −1 = unbounded
  long long o_stride_b, o_stride_h, o_stride_s;
  float scale;
  float softcap;                // 0 = off
};

static_assert(sizeof(HopperAttentionParams<__half>) == 512, "the size the generated C# mirror is held to");

}  // namespace attention
