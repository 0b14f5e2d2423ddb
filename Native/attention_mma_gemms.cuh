// The two GEMMs of attention_mma for f16/bf16 operands (S = Q·Kᵀ and O += P·V on mma.sync m16n8k16), over the
// swizzled tiles of attention_mma_tiles.cuh. The kernel body (attention_mma_kernel.cuh) takes its GEMMs, tile loads
// and per-lane fragment offsets from GemmsFor<T, Tile>, so that the fp32 operands' TF32 path
// (attention_mma_tf32.cuh) shares everything else: block walk, masking, online softmax, epilogue.
#pragma once

#include "attention_mma_tiles.cuh"

namespace attention {
namespace mma {

template <typename T, class Tile>
struct HalfGemms {
  static constexpr int kSlabs = Tile::kSlabs;
  static constexpr int kSTiles = Tile::kBlockN / 8;
  static constexpr int kOTiles = Tile::kHeadDim / 8;
  using QLayout = SwizzledTile<Tile::kBlockM, Tile::kChunks>;
  using KvLayout = SwizzledTile<Tile::kBlockN, Tile::kChunks>;

  // ldmatrix.x4 row addresses: lane l gives row l % 8 of matrix l / 8. For Q (A operand) and V (B operand through
  // .trans) matrix i covers rows 8·(i & 1), columns 8·(i >> 1) of a 16×16 step; for K (B operand, no transpose: K's
  // rows are Kᵀ's columns) rows 8·(i >> 1), columns 8·(i & 1), so that registers 0-1 and 2-3 are the B fragments
  // of two 8-key tiles.
  struct Lanes {
    LaneOffsets rows;
    LaneOffsets k;
    __device__ __forceinline__ explicit Lanes(int lane)
        : rows(lane_offsets(lane & 15, lane >> 4)), k(lane_offsets(((lane >> 4) << 3) + (lane & 7), (lane >> 3) & 1)) {}
  };

  // Rows [0, kRows) of a Q, K or V tile into shared memory (attention_mma_tiles.cuh's load_tile).
  template <int kRows>
  __device__ __forceinline__ static void load(T* shared, const T* global, long long stride, int rows_valid,
                                              int cols_valid, int tid) {
    load_tile<kRows, Tile::kChunks, Tile::kThreads>(shared, global, stride, rows_valid, cols_valid, tid);
  }

  // s_acc += Q·Kᵀ: per 16-wide step of the head dim, one ldmatrix.x4 of Q per slab and one of K per 16 keys.
  __device__ __forceinline__ static void scores(float (&s_acc)[kSlabs][kSTiles][4], const T* sq, const T* sk,
                                                int warp, const Lanes& lanes) {
#pragma unroll
    for (int kk = 0; kk < Tile::kHeadDim / 16; ++kk) {
      uint32_t a[kSlabs][4];
#pragma unroll
      for (int s = 0; s < kSlabs; ++s) {
        wm::ldmatrix_x4(a[s], sq + QLayout::fragment((warp * kSlabs + s) * 16, kk, lanes.rows));
      }
#pragma unroll
      for (int nb = 0; nb < Tile::kBlockN / 16; ++nb) {
        uint32_t kf[4];
        wm::ldmatrix_x4(kf, sk + KvLayout::fragment(nb * 16, kk, lanes.k));
        const uint32_t b0[2] = {kf[0], kf[1]};
        const uint32_t b1[2] = {kf[2], kf[3]};
#pragma unroll
        for (int s = 0; s < kSlabs; ++s) {
          wm::mma_16816<T>(s_acc[s][2 * nb], a[s], b0);
          wm::mma_16816<T>(s_acc[s][2 * nb + 1], a[s], b1);
        }
      }
    }
  }

  // o_acc += P·V. P stays in registers: the accumulators of score tiles 2kk and 2kk + 1, rounded to T in pairs,
  // are exactly the A fragment of the 16-key step kk. V stays row-major in shared memory; ldmatrix.trans hands out
  // its B fragments.
  __device__ __forceinline__ static void accumulate(float (&o_acc)[kSlabs][kOTiles][4],
                                                    const float (&s_acc)[kSlabs][kSTiles][4], const T* sv,
                                                    const Lanes& lanes) {
#pragma unroll
    for (int kk = 0; kk < Tile::kBlockN / 16; ++kk) {
      uint32_t a[kSlabs][4];
#pragma unroll
      for (int s = 0; s < kSlabs; ++s) {
        a[s][0] = wm::pack_pair<T>(s_acc[s][2 * kk][0], s_acc[s][2 * kk][1]);
        a[s][1] = wm::pack_pair<T>(s_acc[s][2 * kk][2], s_acc[s][2 * kk][3]);
        a[s][2] = wm::pack_pair<T>(s_acc[s][2 * kk + 1][0], s_acc[s][2 * kk + 1][1]);
        a[s][3] = wm::pack_pair<T>(s_acc[s][2 * kk + 1][2], s_acc[s][2 * kk + 1][3]);
      }
#pragma unroll
      for (int nd = 0; nd < Tile::kHeadDim / 16; ++nd) {
        uint32_t vf[4];
        wm::ldmatrix_x4_trans(vf, sv + KvLayout::fragment(kk * 16, nd, lanes.rows));
        const uint32_t b0[2] = {vf[0], vf[1]};
        const uint32_t b1[2] = {vf[2], vf[3]};
#pragma unroll
        for (int s = 0; s < kSlabs; ++s) {
          wm::mma_16816<T>(o_acc[s][2 * nd], a[s], b0);
          wm::mma_16816<T>(o_acc[s][2 * nd + 1], a[s], b1);
        }
      }
    }
  }
};

// The GEMMs for operand type T: f16/bf16 here; attention_mma_tf32.cuh specializes float.
template <typename T, class Tile>
struct GemmsFor {
  using type = HalfGemms<T, Tile>;
};

}  // namespace mma
}  // namespace attention
