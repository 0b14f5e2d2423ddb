// Tile traits and the swizzled shared-memory layout of attention_mma (Native/attention_mma.cu).
#pragma once

#include "warp_matrix.cuh"

namespace attention {
namespace mma {

// One head-dim bucket's tile: the CTA owns kBlockM query rows and walks the keys kBlockN at a time. Its kWarps warps
// split the rows into 16-row slabs (kSlabs per warp) and each warp computes all kBlockN columns of its slabs, so the
// softmax never needs another warp; with 2 slabs every K and V fragment a warp loads feeds two MMAs. Q, K and V tiles
// are kHeadDim wide (the bucket: both D and Dv padded up to it with zeros in shared memory); K and V have kStages
// buffers each: 2, one barrier per key block (the next block's copies fly into the other stage), or 1, two barriers
// per key block (attention_mma_kernel.cuh), for the tiles whose double buffers would leave one CTA per SM.
template <int kHeadDim_, int kBlockM_, int kBlockN_, int kWarps_, int kStages_ = 2>
struct Tile {
  static constexpr int kHeadDim = kHeadDim_;
  static constexpr int kBlockM = kBlockM_;
  static constexpr int kBlockN = kBlockN_;
  static constexpr int kWarps = kWarps_;
  static constexpr int kStages = kStages_;
  static constexpr int kThreads = 32 * kWarps;
  static constexpr int kSlabs = kBlockM / (16 * kWarps);
  static constexpr int kChunks = kHeadDim / 8;  // 16-byte chunks per row
  static constexpr int kQElements = kBlockM * kHeadDim;
  static constexpr int kKvElements = kBlockN * kHeadDim;
  // Q, then K's stages, then V's; 2-byte elements.
  static constexpr int kSharedBytes = 2 * (kQElements + 2 * kStages * kKvElements);
  static_assert(kHeadDim % 32 == 0 && kHeadDim <= 256, "head-dim buckets are multiples of 32 up to 256");
  static_assert(kStages == 1 || kStages == 2, "K and V are single- or double-buffered");
  static_assert(kBlockN % 16 == 0 && kBlockM % (16 * kWarps) == 0, "tiles are whole 16x16 MMA steps");
};

// The swizzled layout of a [kRows × 8·kChunks] tile of 2-byte elements. The columns are cut into 64-element
// (128-byte) blocks stored one after the other, each [kRows][64] (the last one [kRows][32] when kChunks % 8 == 4, the
// d32/d96/d160 buckets), and inside a block the 16-byte chunk c of row r is stored at chunk c ^ (r & 7) (a 32-wide
// block: c ^ ((r >> 1) & 3), two rows per 128 bytes). ldmatrix reads one chunk of 8 consecutive rows per phase and a
// 16-byte cp.async phase writes 8 consecutive chunks of one block; either way the 8 chunks land on 8 different
// 16-byte bank groups, so neither ever conflicts — where an unswizzled 128-byte row stride would put all 8 on one.
//
// A warp's ldmatrix addresses split into a per-lane part and a compile-time part: for a 16×16 step at rows
// row0 + lane_row (row0 a multiple of 8) and chunks 2·step + lane_chunk, the XOR only ever mixes lane_row's low bits
// with (step & 3), and it touches only bits 4-5 of the element offset (bit 4 in a 32-wide block), which row0, the
// block and the stage offsets never set. So each lane keeps one offset per block width, taken at step 0, and a step
// is that offset XOR (step & 3) << 4 plus an immediate: one LOP3 per ldmatrix, where an offset per (step & 3) kept
// 12 registers live through the key loop (the 2-slab d128 tile spills without them).
struct LaneOffsets {
  int full;  // 64-wide blocks, step 0
  int half;  // the 32-wide last block, step 0
};

__device__ __forceinline__ LaneOffsets lane_offsets(int lane_row, int lane_chunk) {
  LaneOffsets o;
  o.full = lane_row * 64 + ((lane_chunk ^ (lane_row & 7)) << 3);
  o.half = lane_row * 32 + ((lane_chunk ^ ((lane_row >> 1) & 3)) << 3);
  return o;
}

template <int kRows, int kChunks>
struct SwizzledTile {
  static constexpr int kFullBlocks = kChunks / 8;
  static_assert(kChunks % 4 == 0, "rows are whole 32-element halves of a block");

  // Element offset of this lane's ldmatrix row for the 16-column step `step` at rows row0 + lane_row.
  __device__ __forceinline__ static int fragment(int row0, int step, const LaneOffsets& lane) {
    const int block = step >> 2;
    if (block < kFullBlocks) {
      return block * kRows * 64 + row0 * 64 + (lane.full ^ ((step & 3) << 4));
    }
    return block * kRows * 64 + row0 * 32 + (lane.half ^ ((step & 1) << 4));
  }
};

// Issues the cp.async copies of a tile: rows [0, kRows) of `global` (row r at r · stride, elements contiguous) into
// `shared`. Rows >= rows_valid and columns >= cols_valid are zero-filled (cp.async's src-size), so padding never
// holds stale or non-finite data. Column blocks are walked one at a time so that 8 consecutive threads fill 128
// contiguous bytes of one block (conflict-free stores, coalesced reads). A thread keeps one chunk column per block
// and steps down the rows by kThreads / width, a multiple of 8, so its swizzle and zero-fill width are fixed and
// each further copy is one pointer increment: few live registers, which the 2-slab tiles need.
template <int kRows, int kChunks, int kThreads, typename T>
__device__ __forceinline__ void load_tile(T* shared, const T* global, long long stride, int rows_valid,
                                          int cols_valid, int tid) {
  constexpr int kBlocks = (kChunks + 7) / 8;
  constexpr int kFullBlocks = kChunks / 8;
  static_assert(kThreads % 32 == 0 && kRows * 4 % kThreads == 0, "whole steps of whole 8-row swizzle periods");
#pragma unroll
  for (int block = 0; block < kBlocks; ++block) {
    const int width = block < kFullBlocks ? 8 : 4;  // chunks per row in this block
    const int step = kThreads / width;              // rows between one copy of a thread and its next
    const int r0 = tid / width;
    const int c = tid % width;
    const int swizzled = width == 8 ? c ^ (r0 & 7) : c ^ ((r0 >> 1) & 3);
    const int cols = cols_valid - (block * 8 + c) * 8;
    const int col_bytes = 2 * (cols < 0 ? 0 : cols > 8 ? 8 : cols);
    T* dst = shared + (block * kRows * 8 + r0 * width + swizzled) * 8;
    const T* src = global + r0 * stride + (block * 8 + c) * 8;
#pragma unroll
    for (int it = 0; it < kRows * width / kThreads; ++it) {
      const int bytes = r0 + it * step < rows_valid ? col_bytes : 0;
      wm::cp_async_16(dst, bytes > 0 ? src : global, bytes);
      dst += step * width * 8;
      src += step * stride;
    }
  }
}

}  // namespace mma
}  // namespace attention
