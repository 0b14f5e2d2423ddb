// attention_splitkv_{partial,merge}_{f32,f16,bf16}: flash-decoding for few query rows and long key sequences
// (contract: Native/README.md). Semantics are attention_simt's, option for option.
//
// Decode (Lq ≤ 16) gives the SIMT kernel's grid of (query tile, head, batch) too few blocks to fill a GPU, and reads
// K and V once per query head. Here:
//   partial  grid (splits · row chunks, kv heads, batch), 128 threads. A block takes up to 16 query rows that share
//            one key/value head — GQA's query heads of that head times the Lq rows, so K/V are read once per
//            kv head — and one of `num_splits` contiguous slices of the keys those rows can see. It walks its slice
//            in tiles of 32 keys staged in shared memory as float (16-byte loads where aligned) and keeps the online
//            softmax in fp32, exponentials in base 2. Each split writes its normalised partial output O_s and its
//            log-sum-exp lse_s (natural log; −∞ when the split saw no visible key) into a float workspace — or,
//            when num_splits is 1, the final O and lse directly.
//   merge    one warp per query row: lse = log Σ_s exp(lse_s), O = Σ_s exp(lse_s − lse) · O_s, written in the
//            element type. A row no split saw gets O = 0, lse = −∞.
// Warp w of a partial block owns the same ⌈rows / 4⌉ rows (at most 4) in both phases, so the row statistics (max,
// sum, rescale) never leave the warp: scores have lane = key, the output accumulator lane = value column
// (c = lane + 32k).
//
// Scores stay in natural units (dot · scale, softcap, + bias, as attention_simt computes them); only the
// exponentials use base 2, p = exp2((s − m) · log2 e): the subtraction is exact where it matters, so the error is
// relative to s − m, not |s| (folding log2 e into the scale, as FlashAttention does, costs 1e-3 relative error on
// rows with scores near 1e4, more than the 1e-5 the fp32 kernels are held to). No atomics, fixed reduction order:
// deterministic.
//
// Native/emulation/attention_splitkv_emulation.cpp runs this file on the CPU against a float64 reference.

#include "attention_splitkv_tile.cuh"

namespace attention {
namespace splitkv {

constexpr int kThreads = 128;
constexpr int kWarps = kThreads / kWarpSize;
constexpr int kKeysPerTile = kWarpSize;  // one key per lane in the score phase
constexpr int kRowsPerWarp = 4;                       // at most; a block of r rows gives each warp ⌈r / 4⌉
constexpr int kRows = kWarps * kRowsPerWarp;          // query rows per block
constexpr int kMaxDim = 256;                          // D and Dv; larger problems go to attention_simt
constexpr int kColumnsPerLane = kMaxDim / kWarpSize;  // the accumulator's registers per row
constexpr int kMaxSplits = 128;                       // the merge stages one weight per split in shared memory
constexpr float kLog2e = 1.4426950408889634f;

// Pitch of a shared K row in floats: padded_dim + 4 puts the 8 lanes of each float4 phase on distinct banks
// (pitch ≡ 4 mod 8 words), so lanes reading their own key's row do not conflict.
__host__ __device__ constexpr int key_pitch(int head_dim) { return padded_dim(head_dim) + 4; }

// Dynamic shared memory of a partial block: Q rows, a K tile and a V tile, as float.
__host__ __device__ constexpr int partial_shared_floats(int head_dim, int value_dim) {
  return kRows * padded_dim(head_dim) + kKeysPerTile * key_pitch(head_dim) + kKeysPerTile * padded_dim(value_dim);
}

// The online-softmax state of one query row, identical in every lane of its warp except `l` (each lane sums its own
// keys' terms; the warp adds them at the end) and the accumulator (each lane its own columns).
struct RowState {
  float m;  // running max of the visible scores (−∞ until one is seen)
  float l;  // this lane's Σ exp(s − m)
  float acc[kColumnsPerLane];
};

// A block row's query head and position.
struct RowIndex {
  int h, i;
};

template <typename T>
__device__ __forceinline__ void attention_splitkv_partial(const AttentionParams<T>& params) {
  const int thread = static_cast<int>(threadIdx.x);
  const int lane = thread % kWarpSize;
  const int warp = thread / kWarpSize;
  const int split = static_cast<int>(blockIdx.x) % params.num_splits;
  const int chunk = static_cast<int>(blockIdx.x) / params.num_splits;
  const int kv_head = static_cast<int>(blockIdx.y);
  const int b = static_cast<int>(blockIdx.z);
  const int group = params.q_heads / params.kv_heads;
  const int first_row = chunk * kRows;  // rows of this kv head: (query head within the group) · Lq + i
  const int rows = min(kRows, group * params.q_len - first_row);
  if (rows <= 0 || kv_head >= params.kv_heads || b >= params.batch) {
    return;  // the whole block: nothing below runs a barrier for it
  }

  extern __shared__ float4 splitkv_shared[];
  float* q_tile = reinterpret_cast<float*>(splitkv_shared);
  float* k_tile = q_tile + kRows * padded_dim(params.head_dim);
  float* v_tile = k_tile + kKeysPerTile * key_pitch(params.head_dim);
  __shared__ float p_tile[kRows][kKeysPerTile];  // this tile's exp(s − m), row by row (each warp its own rows)

  const int key_length = key_length_of(params.key_lengths, b, params.k_len);
  auto index_of = [&](int r) {
    const int local = first_row + r;
    return RowIndex{kv_head * group + local / params.q_len, local % params.q_len};
  };
  // The keys row r sees; empty for rows past the block's last.
  auto range_of = [&](int r) {
    return r < rows ? key_range(index_of(r).i, params.q_len, key_length, params.causal, params.window_left,
                                params.window_right)
                    : KeyRange{0, 0};
  };
  // [B, Hq, Lq] position of row r: where its lse goes, and its score row within the mask and bias heads.
  auto out_row_of = [&](int r) {
    const RowIndex x = index_of(r);
    return (static_cast<long long>(b) * params.q_heads + x.h) * params.q_len + x.i;
  };

  // The keys any of the block's rows can see, cut into num_splits slices of whole tiles; every block of this
  // (row chunk, kv head, batch) computes the same cut.
  int lo = key_length, hi = 0;
  for (int r = 0; r < rows; ++r) {
    const KeyRange range = range_of(r);
    if (range.lo < range.hi) {
      lo = min(lo, range.lo);
      hi = max(hi, range.hi);
    }
  }
  const long long span = max(hi - lo, 0);
  const long long tiles_per_split = (span + static_cast<long long>(params.num_splits) * kKeysPerTile - 1) /
                                    (static_cast<long long>(params.num_splits) * kKeysPerTile);
  const long long split_start = lo + split * tiles_per_split * kKeysPerTile;
  const int split_lo = static_cast<int>(min(split_start, static_cast<long long>(hi)));
  const int split_hi = static_cast<int>(min(static_cast<long long>(hi), split_start + tiles_per_split * kKeysPerTile));

  const T* q_rows = params.q + b * params.q_stride_b;
  const T* k_head = params.k + b * params.k_stride_b + kv_head * params.k_stride_h;
  const T* v_head = params.v + b * params.v_stride_b + kv_head * params.v_stride_h;
  copy_rows<T>([&](int r) {
                 const RowIndex x = index_of(r);
                 return q_rows + x.h * params.q_stride_h + x.i * params.q_stride_s;
               },
               rows, kRows, params.head_dim,
               rows_aligned(params.q, params.q_stride_b, params.q_stride_h, params.q_stride_s), q_tile,
               padded_dim(params.head_dim), thread, kThreads);
  const bool k_aligned = rows_aligned(params.k, params.k_stride_b, params.k_stride_h, params.k_stride_s);
  const bool v_aligned = rows_aligned(params.v, params.v_stride_b, params.v_stride_h, params.v_stride_s);

  // Warp w owns rows w·rpw … w·rpw + rpw − 1: a decode block of 4 rows (GQA group 4, Lq = 1) keeps all four warps
  // computing, one row each, while a full block of 16 gives each warp four rows to share every K and V read.
  const int rpw = (rows + kWarps - 1) / kWarps;
  const int first_own = warp * rpw;
  KeyRange ranges[kRowsPerWarp];
  RowState state[kRowsPerWarp];
  for (int rr = 0; rr < kRowsPerWarp; ++rr) {
    ranges[rr] = rr < rpw ? range_of(first_own + rr) : KeyRange{0, 0};
    state[rr].m = -INFINITY;
    state[rr].l = 0.0f;
    for (int cc = 0; cc < kColumnsPerLane; ++cc) state[rr].acc[cc] = 0.0f;
  }
  // One division per block rather than one per score: '/' is a subroutine call, and calls in the score loop make
  // ptxas spill the accumulator around them. s · (1/cap) is within an ulp of s / cap in the tanh argument.
  const float inv_softcap = params.softcap > 0.0f ? 1.0f / params.softcap : 0.0f;
  const bool warp_has_rows = first_own < rows;  // warp-uniform: idle warps only help with the copies
  const int d4 = padded_dim(params.head_dim) / 4;

  for (int tile = split_lo; tile < split_hi; tile += kKeysPerTile) {
    const int keys = min(kKeysPerTile, split_hi - tile);
    __syncthreads();  // every warp is done with the previous tile (and q_tile is written, the first time)
    copy_rows<T>([&](int j) { return k_head + static_cast<long long>(tile + j) * params.k_stride_s; }, keys,
                 kKeysPerTile,
                 params.head_dim, k_aligned, k_tile, key_pitch(params.head_dim), thread, kThreads);
    copy_rows<T>([&](int j) { return v_head + static_cast<long long>(tile + j) * params.v_stride_s; }, keys,
                 kKeysPerTile,
                 params.value_dim, v_aligned, v_tile, padded_dim(params.value_dim), thread, kThreads);
    __syncthreads();
    if (!warp_has_rows) {
      continue;
    }

    // Scores: lane = key, the warp's four rows at once (one K read per four dot-product steps). Four partial sums
    // per row, one per float4 component: independent FMA chains, and a quarter of the rounding error a single
    // running sum gathers over D terms (scores of 1e4 must keep their differences to 1e-5).
    float dot[kRowsPerWarp][4] = {};
    const float4* k_row = reinterpret_cast<const float4*>(k_tile + lane * key_pitch(params.head_dim));
    for (int x = 0; x < d4; ++x) {
      const float4 kx = k_row[x];
      for (int rr = 0; rr < kRowsPerWarp; ++rr) {
        if (rr < rpw) {  // warp-uniform
          const float4 qx = reinterpret_cast<const float4*>(q_tile + (first_own + rr) * padded_dim(params.head_dim))[x];
          dot[rr][0] = fmaf(qx.x, kx.x, dot[rr][0]);
          dot[rr][1] = fmaf(qx.y, kx.y, dot[rr][1]);
          dot[rr][2] = fmaf(qx.z, kx.z, dot[rr][2]);
          dot[rr][3] = fmaf(qx.w, kx.w, dot[rr][3]);
        }
      }
    }

    const int j = tile + lane;
    for (int rr = 0; rr < kRowsPerWarp && rr < rpw; ++rr) {
      const RowIndex x = index_of(first_own + rr);
      const long long score = static_cast<long long>(x.i) * params.k_len + j;  // mask and bias rows are k_len apart
      // Mask and bias are read only for keys the row can see: past them may lie past the end of the buffers.
      const bool visible = lane < keys && j >= ranges[rr].lo && j < ranges[rr].hi &&
                           (params.mask == nullptr ||
                            params.mask[b * params.mask_stride_b + x.h * params.mask_stride_h + score] != 0);
      float s = -INFINITY;
      if (visible) {
        s = ((dot[rr][0] + dot[rr][1]) + (dot[rr][2] + dot[rr][3])) * params.scale;
        if (params.softcap > 0.0f) {
          s = params.softcap * tanhf(s * inv_softcap);
        }
        if (params.bias != nullptr) {
          s += params.bias[b * params.bias_stride_b + x.h * params.bias_stride_h + score];
        }
      }
      RowState& st = state[rr];
      const float m_new = fmaxf(st.m, warp_max(s));
      // While no key is visible m stays −∞; subtracting 0 instead keeps exp2 away from −∞ − (−∞) = NaN.
      const float m_base = m_new == -INFINITY ? 0.0f : m_new;
      const float alpha = exp2f((st.m - m_base) * kLog2e);  // 0 for the first visible key, 1 while the max holds
      const float p = exp2f((s - m_base) * kLog2e);          // 0 for hidden keys (s = −∞)
      st.l = fmaf(st.l, alpha, p);
      st.m = m_new;
      for (int cc = 0; cc < kColumnsPerLane; ++cc) st.acc[cc] *= alpha;
      p_tile[first_own + rr][lane] = p;
    }
    __syncwarp();  // the warp's p_tile rows are written before its lanes read each other's

    // O += P · V: lane = value column, each V element read once for the four rows.
    for (int jj = 0; jj < keys; ++jj) {
      const float* v_row = v_tile + jj * padded_dim(params.value_dim);
      float p[kRowsPerWarp];
      for (int rr = 0; rr < kRowsPerWarp; ++rr) p[rr] = rr < rpw ? p_tile[first_own + rr][jj] : 0.0f;
      for (int cc = 0; cc < kColumnsPerLane; ++cc) {
        const int c = lane + cc * kWarpSize;
        if (c < params.value_dim) {
          const float vc = v_row[c];
          for (int rr = 0; rr < kRowsPerWarp; ++rr) {
            if (rr < rpw) state[rr].acc[cc] = fmaf(p[rr], vc, state[rr].acc[cc]);
          }
        }
      }
    }
  }

  if (!warp_has_rows) {
    return;
  }
  const long long total_rows = static_cast<long long>(params.batch) * params.q_heads * params.q_len;
  for (int rr = 0; rr < kRowsPerWarp && rr < rpw; ++rr) {
    if (first_own + rr >= rows) {
      break;  // warp-uniform
    }
    const RowState& st = state[rr];
    const float l = warp_sum(st.l);
    const bool any_visible = l > 0.0f;  // l ≥ 1 once a key is visible (its max term is exp(0))
    const float row_lse = any_visible ? st.m + logf(l) : -INFINITY;
    // __fdividef is within 2 ulp for l in [1, 2^126] (l ≤ the key count) and, unlike '/', calls no subroutine
    // that would spill the accumulator around it.
    auto normalized = [&](int cc) { return any_visible ? __fdividef(st.acc[cc], l) : 0.0f; };
    const long long out_row = out_row_of(first_own + rr);
    if (params.num_splits == 1) {
      const RowIndex x = index_of(first_own + rr);
      T* o_row = params.o + b * params.o_stride_b + x.h * params.o_stride_h + x.i * params.o_stride_s;
      for (int cc = 0; cc < kColumnsPerLane; ++cc) {
        const int c = lane + cc * kWarpSize;
        if (c < params.value_dim) o_row[c] = from_float<T>(normalized(cc));
      }
      if (params.lse != nullptr && lane == 0) params.lse[out_row] = row_lse;
    } else {
      const long long slot = split * total_rows + out_row;  // workspace [split, B·Hq·Lq]
      float* o_row = params.partial_o + slot * params.value_dim;
      for (int cc = 0; cc < kColumnsPerLane; ++cc) {
        const int c = lane + cc * kWarpSize;
        if (c < params.value_dim) o_row[c] = normalized(cc);
      }
      if (lane == 0) params.partial_lse[slot] = row_lse;
    }
  }
}

constexpr int kMergeWarps = 4;

template <typename T>
__device__ __forceinline__ void attention_splitkv_merge(const AttentionParams<T>& params) {
  __shared__ float weights[kMergeWarps][kMaxSplits];
  // Read once: the loops below store to shared memory, after which the compiler would read the parameters again. The
  // workspace is read with __ldg (read-only data cache): this kernel only reads it.
  const int num_splits = params.num_splits;
  const int value_dim = params.value_dim;
  const float* __restrict__ partial_o = params.partial_o;
  const float* __restrict__ partial_lse = params.partial_lse;
  float* __restrict__ lse = params.lse;
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const int warp = static_cast<int>(threadIdx.x) / kWarpSize;
  // Grid (⌈Hq·Lq / 4⌉, B): 32-bit index arithmetic (64-bit division is a subroutine call).
  const int head_row = static_cast<int>(blockIdx.x) * kMergeWarps + warp;
  const int b = static_cast<int>(blockIdx.y);
  if (head_row >= params.q_heads * params.q_len || b >= params.batch || num_splits > kMaxSplits) {
    return;  // whole warps: nothing below synchronises the block
  }
  const int i = head_row % params.q_len;
  const int h = head_row / params.q_len;
  const long long total_rows = static_cast<long long>(params.batch) * params.q_heads * params.q_len;
  const long long row = static_cast<long long>(b) * params.q_heads * params.q_len + head_row;
  T* __restrict__ o_row = params.o + b * params.o_stride_b + h * params.o_stride_h + i * params.o_stride_s;

  float max_lse = -INFINITY;
  for (int s = lane; s < num_splits; s += kWarpSize) {
    max_lse = fmaxf(max_lse, __ldg(&partial_lse[s * total_rows + row]));
  }
  max_lse = warp_max(max_lse);
  if (max_lse == -INFINITY) {  // no split saw a visible key: a fully masked row
    for (int c = lane; c < value_dim; c += kWarpSize) o_row[c] = from_float<T>(0.0f);
    if (lse != nullptr && lane == 0) lse[row] = -INFINITY;
    return;
  }
  float sum = 0.0f;
  for (int s = lane; s < num_splits; s += kWarpSize) {
    const float weight = exp2f((__ldg(&partial_lse[s * total_rows + row]) - max_lse) * kLog2e);  // 0 for empty splits
    weights[warp][s] = weight;
    sum += weight;
  }
  sum = warp_sum(sum);  // ≥ 1: the largest split contributes exp(0)
  __syncwarp();
  for (int c = lane; c < value_dim; c += kWarpSize) {
    float acc = 0.0f;
    for (int s = 0; s < num_splits; ++s) {
      acc = fmaf(weights[warp][s], __ldg(&partial_o[(s * total_rows + row) * value_dim + c]), acc);
    }
    o_row[c] = from_float<T>(__fdividef(acc, sum));  // sum in [1, splits]: 2 ulp, no division subroutine
  }
  if (lse != nullptr && lane == 0) lse[row] = max_lse + logf(sum);
}

}  // namespace splitkv
}  // namespace attention

// The entry points, both kernels per element type, each taking the family's parameter struct (Native/README.md):
// ATTENTION_SPLITKV_ENTRIES(f16, __half) defines attention_splitkv_partial_f16 and attention_splitkv_merge_f16.
// __launch_bounds__(128, 3) on the partial kernels: with the minimum of 3 blocks per SM ptxas may use up to 168
// registers (it takes ~143: four rows' accumulators, partial dot products and copy addresses) and spills none; left to
// itself on sm_90 it caps at 128 and spills. The merge has no bounds: there ptxas's own choice (≤ 48 registers) is
// spill-free and (128) made it spill.
// ./build.sh test checks the SASS: 16-byte global loads of K/V, 16-byte shared loads in the dot products, butterfly
// reductions in the merge.
// sass-check: attention_splitkv_partial_f32 LDG.E.128 LDS.128 SHFL.BFLY
// sass-check: attention_splitkv_partial_f16 LDG.E.128 LDS.128 SHFL.BFLY
// sass-check: attention_splitkv_partial_bf16 LDG.E.128 LDS.128 SHFL.BFLY
// sass-check: attention_splitkv_merge_f32 SHFL.BFLY
// sass-check: attention_splitkv_merge_f16 SHFL.BFLY
// sass-check: attention_splitkv_merge_bf16 SHFL.BFLY
#define ATTENTION_SPLITKV_ENTRIES(dtype, T)                                                                        \
  extern "C" __global__ void __launch_bounds__(128, 3)                                                             \
      attention_splitkv_partial_##dtype(const __grid_constant__ attention::AttentionParams<T> params) {            \
    attention::splitkv::attention_splitkv_partial<T>(params);                                                      \
  }                                                                                                                \
  extern "C" __global__ void attention_splitkv_merge_##dtype(                                                      \
      const __grid_constant__ attention::AttentionParams<T> params) {                                              \
    attention::splitkv::attention_splitkv_merge<T>(params);                                                        \
  }

ATTENTION_SPLITKV_ENTRIES(f32, float)
ATTENTION_SPLITKV_ENTRIES(f16, __half)
ATTENTION_SPLITKV_ENTRIES(bf16, __nv_bfloat16)

#undef ATTENTION_SPLITKV_ENTRIES
