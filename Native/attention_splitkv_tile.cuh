// What every split-KV partial block shares, whichever way it computes: its rows, its slice of the keys, and the
// end-of-split combine of its warps' states. Native/README.md and Managed/Attention.Native/Cuda/SplitKv/
// AttentionSplitKvGeometry.cs write the same numbers; AttentionSplitKvLaunchTests checks them against each other.
#pragma once

#include "attention_common.cuh"
#include "attention_paged.cuh"

namespace attention {
namespace splitkv {

constexpr int kThreads = 128;
constexpr int kWarps = kThreads / kWarpSize;
constexpr int kMaxDim = 256;    // D and Dv; larger problems go to attention_simt
constexpr int kSplitKeys = 32;  // the keys are cut into splits of whole multiples of this
constexpr int kChunkBytes = 16; // one cp.async
constexpr int kMaxRows = 8;     // query rows per block, at most (the tensor-core path's; float takes 4)
constexpr float kLog2e = 1.4426950408889634f;

// 16-bit operands run on the tensor cores (attention_splitkv_mma.cuh), float ones on the FMA pipes
// (attention_splitkv_simt.cuh): mma.sync has no fp32 operands, and TF32 would cost the 1e-5 float is held to.
template <typename T>
constexpr bool kTensorCores = sizeof(T) == 2;

// A block row's query head, position and visible keys.
struct RowInfo {
  int head, pos;
  KeyRange range;
  // Row `local` of kv head `kv_head` (query head within the group · Lq + position, Lq the launch's); an empty range
  // unless `valid` and the position is inside the sequence (a varlen call's shorter ones leave rows past their end).
  template <typename T>
  __device__ __forceinline__ static RowInfo of(const AttentionParams<T>& params, const SequenceRows& seq, int kv_head,
                                               int group, int local, bool valid) {
    RowInfo row;
    row.head = kv_head * group + local / params.q_len;
    row.pos = local % params.q_len;
    row.range = valid && row.pos < seq.q_len ? key_range(row.pos, seq.q_len, seq.k_len, params.causal,
                                                         params.window_left, params.window_right)
                                             : KeyRange{0, 0};
    return row;
  }
};

// What a partial block works on: its rows (in shared memory, read where a stage needs a per-score visibility test
// or a mask/bias index, so that registers go to q and the accumulators) and its slice of the keys.
struct SplitSlice {
  const RowInfo* rows;       // [kMaxRows] in shared memory; rows past `count` repeat the last
  int count;                 // rows of the block
  int b, kv_head;
  long long q_first, k_first;  // the sequence's first query and key rows (a varlen call's; 0 otherwise)
  int lo, hi;                // the split's keys
  int common_lo, common_hi;  // keys every row sees: a stage inside them, with no mask and no bias, needs no test
  unsigned char* shared;     // the dynamic shared memory

  // Whether all of keys [first, first + keys) are visible to every row with no per-score test.
  __device__ __forceinline__ bool inside(int first, int keys, bool plain) const {
    return plain && first >= common_lo && first + keys <= common_hi && first + keys <= hi;
  }

  // Score x of row r (< count) and key j (≥ lo) after the visibility test: x + bias, or −∞ where the row does not
  // see the key (past the split, outside its range, or masked). Mask and bias are read only for keys the row can
  // see: past them may lie past the end of the buffers.
  template <typename T>
  __device__ __forceinline__ float visible_score(const AttentionParams<T>& params, int r, int j, float x) const {
    const RowInfo& row = rows[r];
    const long long at = static_cast<long long>(row.pos) * params.k_len + j;  // mask and bias rows are k_len apart
    const bool visible = j < hi && j >= row.range.lo && j < row.range.hi &&
                         (params.mask == nullptr ||
                          params.mask[b * params.mask_stride_b + row.head * params.mask_stride_h + at] != 0);
    if (visible && params.bias != nullptr) {
      x += params.bias[b * params.bias_stride_b + row.head * params.bias_stride_h + at];
    }
    return visible ? x : -INFINITY;
  }
};

// How a stream left its parts in the combine scratch: `parts` states of `rows` rows, `width` columns each.
struct CombineShape {
  int parts, rows, width;
};

// The end-of-split combine's scratch, over the ring once every warp is done with it: each part's (a warp's, or a
// lane group's) output row slice, max and sum per row. `parts` × `rows` × `width` floats, then the maxima and sums.
struct CombineScratch {
  float* o;  // [part, row, width]
  float* m;  // [part, row]
  float* l;  // [part, row]
  __device__ __forceinline__ CombineScratch(unsigned char* shared, const CombineShape& shape)
      : o(reinterpret_cast<float*>(shared)),
        m(o + shape.parts * shape.rows * shape.width),
        l(m + shape.parts * shape.rows) {}
};

}  // namespace splitkv
}  // namespace attention
