// The one parameter of every attention entry point — attention_simt, attention_mma (f16/bf16 and TF32) and both
// split-KV kernels — as FlashAttention-2's Flash_fwd_params is of its kernels: the launch contract written once.
// The launcher generator (Managed/Attention.Native.Generators) reads this struct and emits the C# struct
// Attention.Native.Cuda.Interop.AttentionParams<T> with the same fields in the same order, laid out as C lays them
// out (Native/README.md, "Entry-point conventions"): a field added here is a field there.
//
// Entry points take it as `const __grid_constant__ AttentionParams<T> params`: it stays in the kernel's parameter
// space (no copy to local memory), and the bodies read its fields through a `const AttentionParams<T>&`, as they
// read scalar parameters.
//
// One struct for the whole family rather than one per kernel (FlashAttention-2 does the same): the split-KV fields
// are null / 1 for the other kernels, `probs` is read only by attention_simt, and the split-KV merge takes the same
// struct as the partial pass it merges, so a call builds its parameters once.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace attention {

// T is the element type of q, k, v and o: float, __half or __nv_bfloat16. Strides are in elements; the last dimension
// of q, k, v and o is contiguous.
template <typename T>
struct AttentionParams {
  const T* q;                   // [B, Hq, Lq, D] at the strides below
  const T* k;                   // [B, Hkv, Lk, D]
  const T* v;                   // [B, Hkv, Lk, Dv]
  T* o;                         // [B, Hq, Lq, Dv]
  float* lse;                   // [B, Hq, Lq] natural-log sum of exps, −∞ for fully masked rows; may be null
  float* probs;                 // [B, Hq, Lq, Lk] probabilities, 0 where masked; may be null; attention_simt only
  const unsigned char* mask;    // [B|1, Hq|1, Lq, Lk] boolean mask, non-zero = attend; may be null
  const float* bias;            // [B|1, Hq|1, Lq, Lk] added to the scores; may be null
  const int* key_lengths;       // [B] valid key counts in [0, Lk]; may be null
  float* partial_o;             // split-KV workspace [num_splits, B·Hq·Lq, Dv]; null for the other kernels
  float* partial_lse;           // split-KV workspace [num_splits, B·Hq·Lq], natural log; null for the other kernels
  int batch, q_heads, kv_heads, q_len, k_len, head_dim, value_dim;
  int num_splits;               // split-KV key slices (1: the partial pass writes o and lse itself); 1 elsewhere
  long long q_stride_b, q_stride_h, q_stride_s;
  long long k_stride_b, k_stride_h, k_stride_s;
  long long v_stride_b, v_stride_h, v_stride_s;
  long long o_stride_b, o_stride_h, o_stride_s;
  long long mask_stride_b, mask_stride_h;  // 0 where broadcast; the row stride is k_len
  long long bias_stride_b, bias_stride_h;  // 0 where broadcast; the row stride is k_len
  float scale;
  float softcap;                // 0 = off
  int causal;                   // 0 none, 1 top-left, 2 bottom-right
  int window_left, window_right;  // −1 = unbounded
  // Attention sinks and packed (varlen) sequences. Every kernel reads them through attention_common.cuh's
  // sequence_rows, lse_index and fold_sink.
  const float* sinks;           // [Hq] sink logits (natural log) joining each row's softmax denominator; may be null
  const int* cu_seqlens_q;      // [B + 1] packed query offsets: q, o and lse rows of sequence b start at entry b;
                                // null for a padded call. q_len and k_len are then the longest sequence's lengths
  const int* cu_seqlens_k;      // [B + 1] packed key offsets; null exactly when cu_seqlens_q is
  int total_q;                  // cu_seqlens_q[B] in a varlen call, whose lse is [Hq, total_q]; 0 otherwise
  // Paged K/V (PagedKeyValueLayout): k and v are pools of pages, k_stride_b / v_stride_b the stride between pages,
  // and key j of sequence b is slot j % page_size of page block_table[b · pages_per_seq + j / page_size]
  // (attention_paged.cuh; key_lengths holds the sequence lengths). Null / 0 for contiguous K/V and in a varlen call.
  // attention_simt and the float split-KV path look a page up per key; the 16-bit split-KV path per 8-key stage
  // (page_size a multiple of 8) and attention_mma per key block (page_size a multiple of its kBlockN).
  const int* block_table;       // [B, pages_per_seq] page ids
  int page_size;                // positions per page
  int pages_per_seq;            // columns of block_table
  int page_rows;                // sequence strides between pages (k_stride_b = page_rows · k_stride_s, v alike):
                                // page_size, or page_size · kv_heads for head-major pages
  // 8-bit K/V, read by the 16-bit split-KV path only (attention_splitkv_kv8.cuh): with kv_format 1 or 2, k and v
  // point at bytes and their strides count bytes. 0 / null for every other call.
  int kv_format;                // 0: k and v hold T; 1: int8, 2: fp8 e4m3fn, each with float scales
  const float* k_scale;         // int8: [B (paged: pages), Hkv, Lk (paged: slots)] at the strides below, one per key;
  const float* v_scale;         // e4m3: [B, Hkv] at scale_stride_b/_h, one per kv head. dequantised = stored · scale
  long long scale_stride_b, scale_stride_h, scale_stride_s;  // in floats; the same for k_scale and v_scale
};

}  // namespace attention
