// Paged K/V addressing (AttentionParams' block_table, page_size, pages_per_seq): sequence b's key j lives in slot
// j % page_size of page block_table[b · pages_per_seq + j / page_size], and a page's slots are rows one sequence
// stride apart, so a kernel looks a page up once per run of keys inside it and walks the run at that stride.
#pragma once

#include "attention_params.cuh"

namespace attention {

template <typename T>
__device__ __forceinline__ bool is_paged(const AttentionParams<T>& params) {
  return params.block_table != nullptr;
}

// The page holding key `key` of sequence b and the key's slot in it. `key` must be a key the sequence holds (below
// its length): the table entries past a sequence's last page may hold anything.
struct PageSlot {
  long long page, slot;
};

template <typename T>
__device__ __forceinline__ PageSlot page_slot(const AttentionParams<T>& params, int b, int key) {
  const int page = __ldg(&params.block_table[b * params.pages_per_seq + key / params.page_size]);
  return PageSlot{page, key % params.page_size};
}

// Element offset of key `key` of sequence b from its kv head's base (k or v + kv_head · stride_h) in a paged call:
// the page's offset (stride_b apart) plus the slot's (stride_s apart).
template <typename T>
__device__ __forceinline__ long long paged_offset(const AttentionParams<T>& params, int b, int key, long long stride_b,
                                                  long long stride_s) {
  const PageSlot at = page_slot(params, b, key);
  return at.page * stride_b + at.slot * stride_s;
}

}  // namespace attention
