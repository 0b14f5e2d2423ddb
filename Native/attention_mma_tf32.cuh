// The TF32 path of attention_mma (Native/attention_mma_tf32.cu): fp32 operands on mma.sync m16n8k8 .tf32 with fp32
// accumulators. The kernel body (attention_mma_kernel.cuh) is attention_mma's; this file supplies its tile, loads and
// GEMMs for T = float (GemmsFor<float, Tile>).
//
// Shared memory: plain row-major fp32 tiles, each row padded by 4 floats (row stride D + 4 words, D a multiple of
// 32), read with 32-bit loads. ldmatrix moves 16-bit elements: on fp32 data it would hand out the A/B fragments of Q
// and K (a b16 pair is one float), but not V's, whose B fragment is a column walk (.trans would split every float).
// Plain loads on a padded layout are conflict-free for all three fragments instead, with one layout (see Tf32Gemms).
// The padding costs D + 4 over D words (3-12%) of shared memory, which decides the tiles in attention_mma_tf32.cu.
#pragma once

#include "attention_mma_gemms.cuh"

namespace attention {
namespace mma {

// attention_mma's Tile with fp32 rows padded to kStride words: Q, then K's stages, then V's.
template <int kHeadDim_, int kBlockM_, int kBlockN_, int kWarps_, int kStages_ = 2>
struct TileTf32 : Tile<kHeadDim_, kBlockM_, kBlockN_, kWarps_, kStages_> {
  static constexpr int kStride = kHeadDim_ + 4;
  static constexpr int kQElements = kBlockM_ * kStride;
  static constexpr int kKvElements = kBlockN_ * kStride;
  static constexpr int kSharedBytes = 4 * (kQElements + 2 * kStages_ * kKvElements);
  static_assert(kBlockN_ % 8 == 0, "the P·V steps are 8 keys");
};

template <class Tile>
struct Tf32Gemms {
  static constexpr int kSlabs = Tile::kSlabs;
  static constexpr int kSTiles = Tile::kBlockN / 8;
  static constexpr int kOTiles = Tile::kHeadDim / 8;
  static constexpr int kStride = Tile::kStride;

  // Fragment offsets (PTX ISA, mma.m16n8k8 .tf32; g = lane / 4, t = lane % 4). A: a0 (g, t), a1 (g+8, t),
  // a2 (g, t+4), a3 (g+8, t+4); B: b0 (k = t, n = g), b1 (k = t+4, n = g). For S = Q·Kᵀ both Q's A and K's B fragment
  // sit at row g, column t of their tile: word g·kStride + t ≡ 4g + t (mod 32 banks), 32 different banks.
  // For O += P·V the key order inside each 8-key step is permuted (the sum over keys does not care): logical k = t
  // is key 2t and k = t + 4 is key 2t + 1, because the score accumulator gives lane (g, t) keys 2t and 2t + 1 of
  // rows g and g + 8 — so P needs no shuffle, and V's B fragment is rows 2t and 2t + 1, column g: words
  // 8t + g (+ 4), again 32 different banks.
  struct Lanes {
    int qk;
    int v;
    __device__ __forceinline__ explicit Lanes(int lane)
        : qk((lane >> 2) * kStride + (lane & 3)), v(2 * (lane & 3) * kStride + (lane >> 2)) {}
  };

  // Rows [0, kRows) of `global` (row r at r · stride, 16-byte aligned) into the padded tile by 16-byte cp.async.
  // Consecutive threads take consecutive chunks of a row (D / 4 chunks, a multiple of 8), so each quarter-warp
  // writes 128 contiguous bytes. Rows >= rows_valid and columns >= cols_valid are zero-filled.
  template <int kRows>
  __device__ __forceinline__ static void load(float* shared, const float* global, long long stride, int rows_valid,
                                              int cols_valid, int tid) {
    constexpr int kChunks = Tile::kHeadDim / 4;
    constexpr int kCopies = kRows * kChunks;
    constexpr int kThreads = Tile::kThreads;
#pragma unroll
    for (int it = 0; it < (kCopies + kThreads - 1) / kThreads; ++it) {
      const int index = tid + it * kThreads;
      if (kCopies % kThreads == 0 || index < kCopies) {
        const int r = index / kChunks;
        const int c = index % kChunks;
        const int cols = cols_valid - 4 * c;
        const int bytes = r < rows_valid ? 4 * (cols < 0 ? 0 : cols > 4 ? 4 : cols) : 0;
        wm::cp_async_16(shared + r * kStride + 4 * c, bytes > 0 ? global + r * stride + 4 * c : global, bytes);
      }
    }
  }

  // s_acc += Q·Kᵀ per 8-wide step of the head dim; Q and K rounded to TF32 (cvt.rna) as they are loaded.
  __device__ __forceinline__ static void scores(float (&s_acc)[kSlabs][kSTiles][4], const float* sq,
                                                const float* sk, int warp, const Lanes& lanes) {
#pragma unroll
    for (int kk = 0; kk < Tile::kHeadDim / 8; ++kk) {
      uint32_t a[kSlabs][4];
#pragma unroll
      for (int s = 0; s < kSlabs; ++s) {
        const float* const q0 = sq + (warp * kSlabs + s) * 16 * kStride + lanes.qk + kk * 8;
        a[s][0] = wm::to_tf32(q0[0]);
        a[s][1] = wm::to_tf32(q0[8 * kStride]);
        a[s][2] = wm::to_tf32(q0[4]);
        a[s][3] = wm::to_tf32(q0[8 * kStride + 4]);
      }
#pragma unroll
      for (int nt = 0; nt < kSTiles; ++nt) {
        const float* const k0 = sk + nt * 8 * kStride + lanes.qk + kk * 8;
        const uint32_t b[2] = {wm::to_tf32(k0[0]), wm::to_tf32(k0[4])};
#pragma unroll
        for (int s = 0; s < kSlabs; ++s) {
          wm::mma_1688_tf32(s_acc[s][nt], a[s], b);
        }
      }
    }
  }

  // o_acc += P·V per 8-key step kk: score tile kk, rounded to TF32, is the A fragment in the permuted key order
  // above ({c0, c2, c1, c3}); V's B fragment is rows 2t and 2t + 1 of the step.
  __device__ __forceinline__ static void accumulate(float (&o_acc)[kSlabs][kOTiles][4],
                                                    const float (&s_acc)[kSlabs][kSTiles][4], const float* sv,
                                                    const Lanes& lanes) {
#pragma unroll
    for (int kk = 0; kk < kSTiles; ++kk) {
      uint32_t a[kSlabs][4];
#pragma unroll
      for (int s = 0; s < kSlabs; ++s) {
        a[s][0] = wm::to_tf32(s_acc[s][kk][0]);
        a[s][1] = wm::to_tf32(s_acc[s][kk][2]);
        a[s][2] = wm::to_tf32(s_acc[s][kk][1]);
        a[s][3] = wm::to_tf32(s_acc[s][kk][3]);
      }
#pragma unroll
      for (int nd = 0; nd < kOTiles; ++nd) {
        const float* const v0 = sv + kk * 8 * kStride + lanes.v + nd * 8;
        const uint32_t b[2] = {wm::to_tf32(v0[0]), wm::to_tf32(v0[kStride])};
#pragma unroll
        for (int s = 0; s < kSlabs; ++s) {
          wm::mma_1688_tf32(o_acc[s][nd], a[s], b);
        }
      }
    }
  }
};

template <class Tile>
struct GemmsFor<float, Tile> {
  using type = Tf32Gemms<Tile>;
};

}  // namespace mma
}  // namespace attention
