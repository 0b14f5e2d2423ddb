// The body of attention_mma (Native/attention_mma.cu; Native/attention_mma_tf32.cu for float operands): one templated
// kernel, instantiated per head-dim bucket and element type. The GEMMs, tile loads and fragment offsets come from
// GemmsFor<T, Tile> (attention_mma_gemms.cuh for f16/bf16, attention_mma_tf32.cuh for TF32); the rest is shared.
#pragma once

#include "attention_common.cuh"
#include "attention_mma_gemms.cuh"
#include "attention_mma_tf32.cuh"
#include "attention_paged.cuh"
#include "kernel_report.cuh"

namespace attention {
namespace mma {

constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

// The query rows a lane owns: in slab s, rows 8·half + lane/4 of the slab (half 0, 1), i.e. the rows of its
// accumulator elements 2·half and 2·half + 1 in the m16n8 fragment layout.
template <class Tile>
__device__ __forceinline__ int local_row(int warp, int lane, int slab, int half) {
  return (warp * Tile::kSlabs + slab) * 16 + half * 8 + (lane >> 2);
}

// v, which the compiler can no longer see through: what the key loop computes from it is recomputed there, a few
// integer instructions per key block, rather than hoisted out of the loop and held in registers through it, where the
// 2-slab tiles have none to spare.
template <typename V>
__device__ __forceinline__ V opaque(V v) {
  asm volatile("" : "+r"(v));
  return v;
}

// Where key block key0 of batch entry b starts, in sequence strides past the entry's base (b · stride_b): its first
// key row + key0 — or, with paged K/V, the block's page and slot in the pool, written as such a row (the page stride
// is page_rows sequence strides, for K and V alike; a block lies in one page, page_size being a multiple of kN). One
// expression for all three keeps the block loads' registers: a separate paged address moved the 2-slab d128 tile's
// allocation into 8 spill bytes on sm_90.
template <typename T>
__device__ __forceinline__ long long key_block_row(const AttentionParams<T>& params, int b, int key0) {
  if (is_paged(params)) {
    const PageSlot at = page_slot(params, b, key0);
    return (at.page - b) * params.page_rows + at.slot;
  }
  return static_cast<long long>(first_key_row(params, b)) + key0;
}

template <typename T, class Tile>
__device__ __forceinline__ void attention_mma(const AttentionParams<T>& params) {
  constexpr int kM = Tile::kBlockM;
  constexpr int kN = Tile::kBlockN;
  constexpr int kD = Tile::kHeadDim;
  constexpr int kSlabs = Tile::kSlabs;
  constexpr int kStages = Tile::kStages;
  constexpr int kSTiles = kN / 8;  // 8-column fragments of a slab's scores
  constexpr int kOTiles = kD / 8;  // 8-column fragments of a slab's output
  using Gemms = typename GemmsFor<T, Tile>::type;
  // The fields the key-block loop reads, read once: the loop's stores and barriers would otherwise have the compiler
  // read them again, and keep what it derives from them in registers (ptxas -v: up to 20 more registers and spills in
  // the TF32 d64 and d160 kernels than with these locals).
  const int k_len = params.k_len;
  const int head_dim = params.head_dim;
  const int value_dim = params.value_dim;
  const float scale = params.scale;
  const float softcap = params.softcap;

  const int tid = static_cast<int>(threadIdx.x);
  const int warp = tid >> 5;
  const int lane = tid & 31;
  const int quad_lane = lane & 3;
  const int m0 = static_cast<int>(blockIdx.x) * kM;
  const int h = static_cast<int>(blockIdx.y);
  const int b = static_cast<int>(blockIdx.z);
  // The whole CTA leaves together: every __syncthreads below is reached by all of its threads or none.
  if (m0 >= params.q_len || h >= params.q_heads || b >= params.batch) {
    return;
  }
  // A varlen call's packed sequence b, else the whole batch entry: q_len and the key length are the sequence's, and a
  // tile past its end leaves. Its first rows are read where they are used (first_query_row, first_key_row), not held
  // through the key loop: the 2-slab d128 tiles have no register to spare on sm_90.
  const SequenceRows seq = sequence_rows(params, b);
  const int q_len = seq.q_len;
  if (m0 >= q_len) {
    return;
  }

  extern __shared__ __align__(16) unsigned char attention_mma_shared[];
  T* const sq = reinterpret_cast<T*>(attention_mma_shared);
  T* const sk = sq + Tile::kQElements;
  T* const sv = sk + kStages * Tile::kKvElements;

  // GQA/MQA: consecutive query heads share one K/V head, no copies.
  const int kv_head = h / (params.q_heads / params.kv_heads);
  const int key_length = seq.k_len;
  // This (batch, head)'s mask and bias planes, rows k_len apart, or null.
  const unsigned char* const mask_plane =
      params.mask == nullptr ? nullptr : params.mask + b * params.mask_stride_b + h * params.mask_stride_h;
  const float* const bias_plane =
      params.bias == nullptr ? nullptr : params.bias + b * params.bias_stride_b + h * params.bias_stride_h;
  const int rows_here = min(kM, q_len - m0);

  // key_range's lo and hi never decrease with the row, so the tile's first and last rows bound every row: keys
  // outside [first.lo, last.hi) are seen by no row (their blocks are skipped, never loaded), keys inside
  // [last.lo, first.hi) by every row (their blocks need no range mask).
  const KeyRange first = key_range(m0, q_len, key_length, params.causal, params.window_left, params.window_right);
  const KeyRange last =
      key_range(m0 + rows_here - 1, q_len, key_length, params.causal, params.window_left, params.window_right);
  const int n_begin = first.lo / kN;
  const int n_end = last.hi > first.lo ? (last.hi + kN - 1) / kN : n_begin;
  const int inner_lo = last.lo;
  const int inner_hi = first.hi;

  // K and V rows past key_length are zero-filled, not loaded: a KV cache's unwritten tail may hold NaN, and the
  // P·V product would carry it (0 · NaN) into visible rows. Each block's source is computed afresh from the
  // parameters and opaque copies of its indices: the compiler's pointer induction variables (64-bit, per column
  // block), held through the loop, made ptxas spill the 2-slab d96 tile (56 bytes on sm_80 and sm_90).
  // Paged K/V: a block's page is looked up as the block is loaded (key_block_row).
  auto load_k = [&](int n, int stage) {
    const int key0 = opaque(n) * kN;
    const T* const k_block = params.k + opaque(b) * params.k_stride_b + opaque(kv_head) * params.k_stride_h +
                             key_block_row(params, opaque(b), key0) * params.k_stride_s;
    Gemms::template load<kN>(sk + stage * Tile::kKvElements, k_block, params.k_stride_s, key_length - key0, head_dim,
                             opaque(tid));
  };
  auto load_v = [&](int n, int stage) {
    const int key0 = opaque(n) * kN;
    const T* const v_block = params.v + opaque(b) * params.v_stride_b + opaque(kv_head) * params.v_stride_h +
                             key_block_row(params, opaque(b), key0) * params.v_stride_s;
    Gemms::template load<kN>(sv + stage * Tile::kKvElements, v_block, params.v_stride_s, key_length - key0,
                             value_dim, opaque(tid));
  };
  if (n_begin < n_end) {
    Gemms::template load<kM>(sq, params.q + b * params.q_stride_b + h * params.q_stride_h +
                                     (static_cast<long long>(first_query_row(params, b)) + m0) * params.q_stride_s,
                             params.q_stride_s, rows_here, head_dim, tid);
    load_k(n_begin, 0);
    if (kStages == 2) {
      load_v(n_begin, 0);
    }
    wm::cp_async_commit();
  }

  float o_acc[kSlabs][kOTiles][4];
  float row_max[kSlabs][2];  // running max of the scores in log2 units; −∞ until a key is visible
  float row_sum[kSlabs][2];  // this lane's part of the running Σ 2^(t − max); the quad adds its four at the end
#pragma unroll
  for (int s = 0; s < kSlabs; ++s) {
#pragma unroll
    for (int j = 0; j < kOTiles; ++j) {
#pragma unroll
      for (int e = 0; e < 4; ++e) o_acc[s][j][e] = 0.0f;
    }
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      row_max[s][half] = -INFINITY;
      row_sum[s][half] = 0.0f;
    }
  }

  const typename Gemms::Lanes lanes(lane);
  const float scale_log2 = scale * kLog2e;
  // A multiply per score rather than a division (an IEEE division is a called subroutine, whose ABI cost the d128
  // tile 4 spill bytes); it moves the capped score by an ulp, far inside the fp16/bf16 tolerance.
  const float inv_softcap = softcap > 0.0f ? 1.0f / softcap : 0.0f;
  for (int n = n_begin; n < n_end; ++n) {
    // Two stages: one barrier per key block. Block n's copies (issued one block earlier) are waited for and made
    // visible, and every warp is past block n − 1, so its stage takes block n + 1's copies, which fly while block n
    // is computed. One stage: this barrier makes K visible and frees V's buffer for block n's V, which flies during
    // Q·Kᵀ and the softmax and is waited for at a second barrier, which also frees K's buffer for block n + 1
    // (FlashAttention-2's order: a single buffer needs one "filled" and one "free" point per block).
    const int stage = kStages == 2 ? (n - n_begin) & 1 : 0;
    wm::cp_async_wait<0>();
    __syncthreads();
    if (kStages == 2) {
      if (n + 1 < n_end) {
        load_k(n + 1, stage ^ 1);
        load_v(n + 1, stage ^ 1);
      }
    } else {
      load_v(n, 0);
    }
    wm::cp_async_commit();
    const T* const sk_n = sk + stage * Tile::kKvElements;
    const T* const sv_n = sv + stage * Tile::kKvElements;

    // S = Q·Kᵀ.
    float s_acc[kSlabs][kSTiles][4];
#pragma unroll
    for (int s = 0; s < kSlabs; ++s) {
#pragma unroll
      for (int j = 0; j < kSTiles; ++j) {
#pragma unroll
        for (int e = 0; e < 4; ++e) s_acc[s][j][e] = 0.0f;
      }
    }
    Gemms::scores(s_acc, sq, sk_n, warp, lanes);

    // A block every row sees whole, with no softcap, mask or bias and a positive scale (the common case), keeps the
    // raw scores s: their max times scale · log2 e is the max in log2 units, and 2^(s · scale · log2 e − max) is
    // one FFMA before ex2. The other blocks take the general path, in the order the reference applies them (scale,
    // softcap, bias; then key range and boolean mask), into log2 units t = score · log2 e, −∞ where hidden, and the
    // FFMA multiplies by 1.
    const int key0 = n * kN;
    const bool plain = key0 >= inner_lo && key0 + kN <= inner_hi && params.mask == nullptr && params.bias == nullptr &&
                       !(softcap > 0.0f) && scale_log2 > 0.0f;
    if (!plain) {
#pragma unroll
      for (int s = 0; s < kSlabs; ++s) {
#pragma unroll
        for (int half = 0; half < 2; ++half) {
          const int row = m0 + local_row<Tile>(warp, lane, s, half);
          const long long i = row;
          // Rows past q_len (the last tile's padding) see nothing, so no mask or bias row past the end is read.
          const KeyRange r = row < q_len ? key_range(row, q_len, key_length, params.causal, params.window_left,
                                                     params.window_right)
                                         : KeyRange{0, 0};
#pragma unroll
          for (int j = 0; j < kSTiles; ++j) {
#pragma unroll
            for (int e = 0; e < 2; ++e) {
              const int key = key0 + j * 8 + 2 * quad_lane + e;
              bool visible = key >= r.lo && key < r.hi;
              float score = s_acc[s][j][2 * half + e] * scale;
              if (softcap > 0.0f) {
                score = softcap * tanhf(score * inv_softcap);
              }
              if (visible && params.mask != nullptr) {
                visible = mask_plane[i * k_len + key] != 0;
              }
              if (visible && params.bias != nullptr) {
                score += bias_plane[i * k_len + key];
              }
              s_acc[s][j][2 * half + e] = visible ? score * kLog2e : -INFINITY;
            }
          }
        }
      }
    }
    const float to_log2 = plain ? scale_log2 : 1.0f;

    // Online softmax per row: the quad (4 lanes) holds the row's kN scores, so two xor-shuffles give its max.
    // While a row has seen no key its max is −∞; 0 stands in for it so that 2^(t − max) is 2^−∞ = 0, not NaN.
#pragma unroll
    for (int s = 0; s < kSlabs; ++s) {
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        float mx = s_acc[s][0][2 * half];
#pragma unroll
        for (int j = 0; j < kSTiles; ++j) {
          mx = fmaxf(mx, fmaxf(s_acc[s][j][2 * half], s_acc[s][j][2 * half + 1]));
        }
        mx = fmaxf(mx, __shfl_xor_sync(kFullWarp, mx, 1));
        mx = fmaxf(mx, __shfl_xor_sync(kFullWarp, mx, 2));
        mx = fmaxf(row_max[s][half], mx * to_log2);
        const float base = mx == -INFINITY ? 0.0f : mx;
        const float alpha = wm::exp2_approx(row_max[s][half] - base);  // 1 while the max holds, 0 from −∞
        row_max[s][half] = mx;
        float sum = row_sum[s][half] * alpha;
#pragma unroll
        for (int j = 0; j < kOTiles; ++j) {
          o_acc[s][j][2 * half] *= alpha;
          o_acc[s][j][2 * half + 1] *= alpha;
        }
#pragma unroll
        for (int j = 0; j < kSTiles; ++j) {
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            float& x = s_acc[s][j][2 * half + e];
            x = wm::exp2_approx(fmaf(x, to_log2, -base));
            sum += x;
          }
        }
        row_sum[s][half] = sum;
      }
    }

    if (kStages == 1) {
      wm::cp_async_wait<0>();
      __syncthreads();  // V is visible, and every warp is done with K: block n + 1's K may land
      if (n + 1 < n_end) {
        load_k(n + 1, 0);
      }
      wm::cp_async_commit();
    }

    // O += P·V, P straight from the score registers.
    Gemms::accumulate(o_acc, s_acc, sv_n, lanes);
  }

  // Epilogue: O = acc / l (0 for a row that saw no key: l == 0, where a visible key makes l >= 1),
  // lse = max · ln 2 + ln l (natural log, −∞ for an empty row), then the head's sink folded in (fold_sink).
  const float sink = sink_of(params, h);
  const long long q_first = first_query_row(params, opaque(b));
#pragma unroll
  for (int s = 0; s < kSlabs; ++s) {
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      float l = row_sum[s][half];
      l += __shfl_xor_sync(kFullWarp, l, 1);
      l += __shfl_xor_sync(kFullWarp, l, 2);
      const int i = m0 + local_row<Tile>(warp, lane, s, half);
      if (i >= q_len) {
        continue;
      }
      const SinkFold fold = fold_sink(l > 0.0f ? row_max[s][half] * kLn2 + logf(l) : -INFINITY, sink);
      const float inv = l > 0.0f ? fold.factor / l : 0.0f;
      T* const o_row = params.o + b * params.o_stride_b + h * params.o_stride_h + (q_first + i) * params.o_stride_s;
#pragma unroll
      for (int j = 0; j < kOTiles; ++j) {
        const int c = j * 8 + 2 * quad_lane;
        const float lo = o_acc[s][j][2 * half] * inv;
        const float hi = o_acc[s][j][2 * half + 1] * inv;
        if (c + 1 < value_dim) {
          wm::store_pair<T>(o_row + c, lo, hi);
        } else if (c < value_dim) {
          o_row[c] = from_float<T>(lo);
        }
      }
      if (params.lse != nullptr && quad_lane == 0) {
        params.lse[lse_index(params, q_first, b, h, i)] = fold.lse;
      }
    }
  }
}

}  // namespace mma
}  // namespace attention

// Defines the entry point attention_mma_d<bucket>_<dtype> for element type T on tile Tile (attention_mma.cu and
// attention_mma_tf32.cu list one per head-dim bucket); its one parameter is the family's struct (Native/README.md).
#define ATTENTION_MMA_ENTRY(bucket, dtype, T, Tile)                                                                \
  extern "C" __global__ void __launch_bounds__(Tile::kThreads)                                                     \
      attention_mma_d##bucket##_##dtype(const __grid_constant__ attention::AttentionParams<T> params) {            \
    KERNEL_REPORT_LAUNCH((Tile::kThreads), (Tile::kSharedBytes));                                                  \
    attention::mma::attention_mma<T, Tile>(params);                                                                \
  }
