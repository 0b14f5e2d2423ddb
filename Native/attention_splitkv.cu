// attention_splitkv_{partial,merge}_{f32,f16,bf16}: flash-decoding for few query rows and long key sequences
// (contract: Native/README.md). Semantics are attention_simt's, option for option.
//
// Decode (Lq ≤ 16) gives the SIMT kernel's grid of (query tile, head, batch) too few blocks to fill a GPU, and reads
// K and V once per query head. Here:
//   partial  grid (splits · row chunks, kv heads, batch), 128 threads. A block takes up to R query rows that share
//            one key/value head — GQA's query heads of that head times the Lq rows, so K/V are read once per
//            kv head; R = 8 for f16/bf16, 4 for f32 — and one of `num_splits` contiguous slices of the keys those
//            rows can see. Each of its 4 warps streams its own stages of the slice through its own ring of K/V
//            tiles in shared memory, filled by 16-byte cp.async.cg in the element type (no widening, no float
//            staging; plain loads where rows are not 16-byte aligned), and keeps its own online softmax in fp32:
//              f16/bf16  on the tensor cores, 8 keys a stage (attention_splitkv_mma.cuh);
//              f32       on the FMA pipes, 4 · 32/L keys a stage, L lanes a key (attention_splitkv_simt.cuh).
//            At the end of the slice the block combines its warps' states through shared memory, and each split
//            writes its normalised partial output O_s and its log-sum-exp lse_s (natural log; −∞ when the split saw
//            no visible key) into a float workspace — or, when num_splits is 1, the final O and lse directly.
//   merge    one warp per query row: lse = log Σ_s exp(lse_s), O = Σ_s exp(lse_s − lse) · O_s, written in the
//            element type. A row no split saw gets O = 0, lse = −∞. The head's sink, where given, then joins lse and
//            scales O (fold_sink; a row no split saw gets lse = the sink), in the merge or, with one split, the
//            partial pass. In a varlen call each batch entry is a packed sequence (sequence_rows).
//
// Scores stay in natural units (dot · scale, softcap, + bias, as attention_simt computes them); only the
// exponentials use base 2, p = exp2((s − m) · log2 e): the subtraction is exact where it matters, so the error is
// relative to s − m, not |s| (folding log2 e into the scale, as FlashAttention does, costs 1e-3 relative error on
// rows with scores near 1e4, more than the 1e-5 the fp32 kernels are held to). No atomics, fixed reduction order:
// deterministic.
//
// Native/emulation/attention_splitkv_emulation.cpp runs this file on the CPU against a float64 reference.

#include "attention_splitkv_mma.cuh"
#include "attention_splitkv_simt.cuh"
#include "kernel_report.cuh"

namespace attention {
namespace splitkv {

constexpr int kMaxSplits = 128;  // the merge stages one weight per split in shared memory

// Query rows per partial block, and its dynamic shared memory.
template <typename T>
constexpr int kRowsPerBlock = kTensorCores<T> ? kMmaRows : kSimtRows;

template <typename T>
__host__ __device__ constexpr int partial_shared_bytes(int head_dim, int value_dim) {
  return kTensorCores<T> ? mma_shared_bytes(head_dim, value_dim) : kSimtSharedBytes;
}

// The most dynamic shared memory a partial block asks for, for the kernel report (Native/kernel_report.cuh): the ring
// depth follows D, and every 16-bit ring with Q's tile fits kMmaSharedBudget, so its CTAs per SM are a floor.
template <typename T>
constexpr int kPartialSharedMost = kTensorCores<T> ? kMmaSharedBudget : kSimtSharedBytes;

// The stream of this block's element type: tensor cores for 16-bit, FMA pipes (with the row count a compile-time
// constant) for float.
template <typename T>
__device__ __forceinline__ CombineShape stream_split(const AttentionParams<T>& params, const SplitSlice& slice,
                                                     int warp, int lane) {
  return stream_split_mma(params, slice, warp, lane);
}

__device__ __forceinline__ CombineShape stream_split(const AttentionParams<float>& params, const SplitSlice& slice,
                                                     int warp, int lane) {
  switch (slice.count) {  // block-uniform
    case 1: return stream_split_simt<1>(params, slice, warp, lane);
    case 2: return stream_split_simt<2>(params, slice, warp, lane);
    case 3: return stream_split_simt<3>(params, slice, warp, lane);
    default: return stream_split_simt<kSimtRows>(params, slice, warp, lane);
  }
}

// The stream of an 8-bit K/V format: the tensor-core path only (f16 and bf16 queries).
template <int kKv>
struct StreamOf {
  template <typename T>
  __device__ __forceinline__ static CombineShape run(const AttentionParams<T>& params, const SplitSlice& slice,
                                                     int warp, int lane) {
    return stream_split_mma<T, kKv>(params, slice, warp, lane);
  }
};
template <>
struct StreamOf<kKvElement> {
  template <typename T>
  __device__ __forceinline__ static CombineShape run(const AttentionParams<T>& params, const SplitSlice& slice,
                                                     int warp, int lane) {
    return stream_split(params, slice, warp, lane);
  }
};

template <typename T, int kKv = kKvElement>
__device__ __forceinline__ void attention_splitkv_partial(const AttentionParams<T>& params) {
  constexpr int kRows = kRowsPerBlock<T>;
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const int warp = static_cast<int>(threadIdx.x) / kWarpSize;
  const int group = params.q_heads / params.kv_heads;
  // Grid x = split · chunks + chunk: the row chunks of one split are neighbours, so they run together and the
  // later ones read the K/V the first brought into L2.
  const int chunks = (group * params.q_len + kRows - 1) / kRows;
  const int chunk = static_cast<int>(blockIdx.x) % chunks;
  const int split = static_cast<int>(blockIdx.x) / chunks;
  const int kv_head = static_cast<int>(blockIdx.y);
  const int b = static_cast<int>(blockIdx.z);
  const int first_row = chunk * kRows;  // rows of this kv head: (query head within the group) · Lq + i
  const int rows = min(kRows, group * params.q_len - first_row);
  if (rows <= 0 || split >= params.num_splits || kv_head >= params.kv_heads || b >= params.batch ||
      params.kv_format != kKv) {
    return;  // the whole block: nothing below runs a barrier for it (a format the entry does not read: the launcher's)
  }
  extern __shared__ float4 splitkv_shared[];
  __shared__ RowInfo row_info[kMaxRows];

  // The block's rows, and the keys any of them sees (lo, hi) and every one sees (common).
  // A varlen call's packed sequence b: rows past its query length see nothing and write nothing.
  const SequenceRows seq = sequence_rows(params, b);
  const int key_length = seq.k_len;
  int lo = key_length, hi = 0, common_lo = 0, common_hi = key_length;
  for (int r = 0; r < kMaxRows; ++r) {
    const RowInfo row = RowInfo::of(params, seq, kv_head, group, first_row + min(r, rows - 1), r < rows);
    if (r < rows && row.pos < seq.q_len) {
      if (row.range.lo < row.range.hi) {
        lo = min(lo, row.range.lo);
        hi = max(hi, row.range.hi);
      }
      common_lo = max(common_lo, row.range.lo);
      common_hi = min(common_hi, row.range.hi);
    }
    if (static_cast<int>(threadIdx.x) == r) row_info[r] = row;
  }
  __syncthreads();

  // Paged K/V: the slices and stages start on whole 8-key stages, which then never straddle a page (the 16-bit path
  // looks a page up per stage, page_size being a multiple of 8); the keys before lo are hidden by every row's range.
  if (is_paged(params)) lo = lo / kMmaStageKeys * kMmaStageKeys;
  // Those keys cut into num_splits slices of whole kSplitKeys; every block of this (row chunk, kv head, batch)
  // computes the same cut.
  const long long span = max(hi - lo, 0);
  const long long per_split = (span + static_cast<long long>(params.num_splits) * kSplitKeys - 1) /
                              (static_cast<long long>(params.num_splits) * kSplitKeys) * kSplitKeys;
  const long long split_start = lo + split * per_split;
  SplitSlice slice;
  slice.rows = row_info;
  slice.count = rows;
  slice.b = b;
  slice.kv_head = kv_head;
  slice.q_first = seq.q_first;
  slice.k_first = seq.k_first;
  slice.lo = static_cast<int>(min(split_start, static_cast<long long>(hi)));
  slice.hi = static_cast<int>(min(static_cast<long long>(hi), split_start + per_split));
  slice.common_lo = common_lo;
  slice.common_hi = common_hi;
  slice.shared = reinterpret_cast<unsigned char*>(splitkv_shared);

  // Each warp streams its own keys of the slice and leaves its state (one part per warp or lane group) in the
  // scratch; then warp w finishes rows w, w + 4, … over the parts.
  const CombineShape shape = StreamOf<kKv>::run(params, slice, warp, lane);
  __syncthreads();
  const CombineScratch scratch(slice.shared, shape);
  for (int r = warp; r < rows; r += kWarps) {
    float top = -INFINITY;
    for (int p = lane; p < shape.parts; p += kWarpSize) top = fmaxf(top, scratch.m[p * shape.rows + r]);
    top = warp_max(top);
    const bool any_visible = top != -INFINITY;
    float sum = 0.0f;
    if (any_visible) {
      for (int p = lane; p < shape.parts; p += kWarpSize) {
        sum = fmaf(scratch.l[p * shape.rows + r], wm::exp2_approx((scratch.m[p * shape.rows + r] - top) * kLog2e), sum);
      }
    }
    sum = warp_sum(sum);  // ≥ 1 once a key is visible: the part holding the max has a term exp(0)
    const float row_lse = any_visible ? top + logf(sum) : -INFINITY;
    // Column c: Σ_parts o_part · exp(m_part − m) / l; 0 for a row no key of the split reaches. __fdividef is
    // within 2 ulp for sum in [1, 2^126] and, unlike '/', calls no subroutine.
    auto column = [&](int c) {
      if (!any_visible) return 0.0f;
      float o = 0.0f;
      for (int p = 0; p < shape.parts; ++p) {
        const float weight = wm::exp2_approx((scratch.m[p * shape.rows + r] - top) * kLog2e);
        o = fmaf(scratch.o[(p * shape.rows + r) * shape.width + c], weight, o);
      }
      return __fdividef(o, sum);
    };
    const RowInfo& row = row_info[r];
    if (row.pos >= seq.q_len) {
      continue;  // past a varlen sequence's end: no output row (warp-uniform)
    }
    const long long out_row = (static_cast<long long>(b) * params.q_heads + row.head) * params.q_len + row.pos;
    if (params.num_splits == 1) {
      const SinkFold fold = fold_sink(row_lse, sink_of(params, row.head));
      T* o_row = params.o + b * params.o_stride_b + row.head * params.o_stride_h +
                 (seq.q_first + row.pos) * params.o_stride_s;
      for (int c = lane; c < params.value_dim; c += kWarpSize) o_row[c] = from_float<T>(column(c) * fold.factor);
      if (params.lse != nullptr && lane == 0) params.lse[lse_index(params, seq.q_first, b, row.head, row.pos)] = fold.lse;
    } else {
      const long long total_rows = static_cast<long long>(params.batch) * params.q_heads * params.q_len;
      const long long slot = split * total_rows + out_row;  // workspace [split, B·Hq·Lq]
      float* o_row = params.partial_o + slot * params.value_dim;
      for (int c = lane; c < params.value_dim; c += kWarpSize) o_row[c] = column(c);
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
  const SequenceRows seq = sequence_rows(params, b);
  if (i >= seq.q_len) {
    return;  // past a varlen sequence's end
  }
  const long long total_rows = static_cast<long long>(params.batch) * params.q_heads * params.q_len;
  const long long row = static_cast<long long>(b) * params.q_heads * params.q_len + head_row;  // workspace row
  const long long lse_row = lse_index(params, seq.q_first, b, h, i);
  const float sink = sink_of(params, h);
  T* __restrict__ o_row = params.o + b * params.o_stride_b + h * params.o_stride_h + (seq.q_first + i) * params.o_stride_s;

  float max_lse = -INFINITY;
  for (int s = lane; s < num_splits; s += kWarpSize) {
    max_lse = fmaxf(max_lse, __ldg(&partial_lse[s * total_rows + row]));
  }
  max_lse = warp_max(max_lse);
  if (max_lse == -INFINITY) {  // no split saw a visible key: a fully masked row
    for (int c = lane; c < value_dim; c += kWarpSize) o_row[c] = from_float<T>(0.0f);
    if (lse != nullptr && lane == 0) lse[lse_row] = sink;  // −∞ without a sink
    return;
  }
  float sum = 0.0f;
  for (int s = lane; s < num_splits; s += kWarpSize) {
    const float weight = exp2f((__ldg(&partial_lse[s * total_rows + row]) - max_lse) * kLog2e);  // 0 for empty splits
    weights[warp][s] = weight;
    sum += weight;
  }
  sum = warp_sum(sum);  // ≥ 1: the largest split contributes exp(0)
  const SinkFold fold = fold_sink(max_lse + logf(sum), sink);
  __syncwarp();
  for (int c = lane; c < value_dim; c += kWarpSize) {
    float acc = 0.0f;
    for (int s = 0; s < num_splits; ++s) {
      acc = fmaf(weights[warp][s], __ldg(&partial_o[(s * total_rows + row) * value_dim + c]), acc);
    }
    o_row[c] = from_float<T>(__fdividef(acc, sum) * fold.factor);  // sum in [1, splits]: 2 ulp, no division subroutine
  }
  if (lse != nullptr && lane == 0) lse[lse_row] = fold.lse;
}

}  // namespace splitkv
}  // namespace attention

// The entry points, both kernels per element type, each taking the family's parameter struct (Native/README.md):
// ATTENTION_SPLITKV_ENTRIES(f16, __half) defines attention_splitkv_partial_f16 and attention_splitkv_merge_f16.
//
// Why these tiles and rings won — static numbers from ptxas -v and the sm_90 SASS (nvcc 11.8; no GPU run yet), for
// the decode the device report measures (bf16, D = Dv = 128, GQA 32/8, Lq = 1). HBM needs, per SM, bandwidth ×
// latency / SMs in flight: 4.8 TB/s × 700 ns / 132 = 25 KB on an H200, 18 KB on an H100 SXM (3.35 TB/s), about
// twice that at the latency a saturated HBM shows (~1.5 µs). A 512-byte key arrives every 28 (H200) / 40 (H100)
// cycles of an SM at 1.98 GHz.
//   partial f16/bf16  158 registers (sm_80) / 158 (sm_90), 0 spills; 72,080 bytes of dynamic shared memory at
//                     D = 128 (+128 static): 3 CTAs (12 warps) an SM on an H100/H200 by registers (20,480 a CTA) and
//                     by shared memory (73,232 with the 1 KiB the SM reserves, of 228 KiB) alike.
//                     In flight: each warp keeps 3 stages of 4 KiB of K/V requested (kMmaInFlightBytes: 7 of 2 KiB
//                     at D = 64, 2 of 6 KiB at 192, but 1 of 8 KiB at 256, where 99 KiB holds 2 stages), 48 KiB a
//                     CTA, 96 KiB an SM at the two CTAs a decode grid puts there (Waves = 2): 3.8× what an H200
//                     needs, 5.4× an H100, ≥ 1.8× at saturated latency (64 KiB at D = 256: 2.6×, 3.6×).
//                     Issue: an 8-key stage in its steady state (whole chunks, no mask) is ~390 SASS instructions:
//                     8 + 16 HMMA, 24 LDSM, ~190 for the 8 cp.async a lane (each with its loop step, 64-bit pointer
//                     step and the three no-op shared loads ptxas puts before an LDGSTS), ~90 for the scores, the
//                     softmax and the bookkeeping. ~49 a key: 12 issue cycles of an SM at 4 a cycle against the 28
//                     to 40 the key takes to arrive — 44 % (H200) / 31 % (H100) of the issue slots. A warp has
//                     8 · 28 · 8 = 1,792 cycles for a stage at two CTAs an SM; its dependent chain (8 chained HMMA
//                     for S, shuffles, exp2, 16 HMMA for O in 8 independent pairs) and its ~390 issues take under
//                     1,000.
//                     So nothing but HBM should bind it: an estimated 85-90 % of copy bandwidth (~80 % of the
//                     nominal peak) from Lk = 32k (B = 1) up; about half at 4k, where the two launches and the
//                     pipeline's fill take about as long as the 16 MiB themselves (~3.5 µs). Staging 32-key tiles as
//                     float through synchronous loads would reach an estimated 40-60 %.
//                     Tried first: the float path's lane layout for 16-bit (~100 instructions a key at D = 128:
//                     260 FFMA, 64 conversions and 128 shuffle steps per 8 keys, 90 % of an H200's issue slots at
//                     full bandwidth); 16-key stages with 3 stages a warp (104 KiB at D = 128: more than sm_86/89
//                     give a block, and 202 KiB at 256, more than an A100's 163); Q's A fragments held in registers
//                     (210 registers: the zero halves of the register quad double them); a ring capped at 4 stages
//                     (24 KiB in flight a CTA at D = 64, under 2× an H200's need at two CTAs an SM).
//   partial f32       167 registers (sm_80) / 164 (sm_90), 0 spills; 98,304 bytes: 2 CTAs (8 warps) an SM by shared
//                     memory. Each warp keeps 2 stages of 8 KiB in flight: 64 KiB a CTA, 128 KiB an SM. An 8-key
//                     stage at D = 128 is ~0.8-1k instructions (256 FFMA, 64 shuffles + 64 adds of the butterflies,
//                     16 cp.async a lane with their addressing), ~110 a key: 28 cycles an SM against the 56 (H200)
//                     to 80 (H100) a 1 KiB float key takes — ~50 % / 35 % of the issue slots.
//   __launch_bounds__(128, 3): ptxas may use up to 168 registers; left to itself on sm_90 the float path caps at 128
//   and spills. The merge has no bounds: there ptxas's own choice (≤ 48 registers) is spill-free.
// ./build.sh test checks the SASS: 16-byte cp.async (LDGSTS) in every partial kernel, ldmatrix and mma in the
// 16-bit ones, 16-byte shared loads and butterflies in the float one, butterfly reductions in the merge.
// sass-check: attention_splitkv_partial_f32 LDGSTS LDS.128 SHFL.BFLY
// sass-check: attention_splitkv_partial_f16 LDGSTS LDSM HMMA
// sass-check: attention_splitkv_partial_bf16 LDGSTS LDSM HMMA
// sass-check: attention_splitkv_merge_f32 SHFL.BFLY
// sass-check: attention_splitkv_merge_f16 SHFL.BFLY
// sass-check: attention_splitkv_merge_bf16 SHFL.BFLY
// The kernel report's targets (./build.sh kernel-report; CTAs per SM at the most shared memory a block asks for): two
// CTAs an SM keep the bytes in flight above; the 16-bit stage loop waits on its own warp's copies, never on the block.
// kernel-target: attention_splitkv_partial_f16 spills==0 ctas>=2 bar/iter==0
// kernel-target: attention_splitkv_partial_bf16 spills==0 ctas>=2 bar/iter==0
// kernel-target: attention_splitkv_partial_f32 spills==0 ctas>=2
#define ATTENTION_SPLITKV_ENTRIES(dtype, T)                                                                        \
  extern "C" __global__ void __launch_bounds__(128, 3)                                                             \
      attention_splitkv_partial_##dtype(const __grid_constant__ attention::AttentionParams<T> params) {            \
    KERNEL_REPORT_LAUNCH(128, (attention::splitkv::kPartialSharedMost<T>));                                        \
    attention::splitkv::attention_splitkv_partial<T>(params);                                                      \
  }                                                                                                                \
  extern "C" __global__ void attention_splitkv_merge_##dtype(                                                      \
      const __grid_constant__ attention::AttentionParams<T> params) {                                              \
    KERNEL_REPORT_LAUNCH(128, 0);                                                                                  \
    attention::splitkv::attention_splitkv_merge<T>(params);                                                        \
  }

ATTENTION_SPLITKV_ENTRIES(f32, float)
ATTENTION_SPLITKV_ENTRIES(f16, __half)
ATTENTION_SPLITKV_ENTRIES(bf16, __nv_bfloat16)

#undef ATTENTION_SPLITKV_ENTRIES

// The partial kernels over 8-bit K/V (attention_splitkv_kv8.cuh), f16 and bf16 queries: the same block, ring and
// launch as the 16-bit partial kernel of the query type, whose merge they share. attention_splitkv_partial_i8_bf16
// reads int8 K/V with per-key scales; _e4m3_ fp8 e4m3fn with per-head scales. Static numbers (nvcc 11.8, no GPU
// run yet): 155-167 registers (sm_80) / 156-166 (sm_90), 0 spills; the 16-bit kernel's 72,080 bytes at D = 128,
// 3 CTAs an SM. A stage holds the bytes in its 16-bit slot, so a warp keeps 3 stages of 2 KiB in flight at D = 128:
// 48 KiB an SM at two CTAs, ~2× an H200's need at 700 ns, about its need at saturated latency (a compact byte stage
// with a deeper ring would double it, at the price of a geometry of its own on the host). Per 8-key stage a lane
// reads its fragments' 32 K and 64 V bytes (16 two-byte and 32 one-byte shared loads, no ldmatrix) and converts
// 32 pairs: f16 ~3 integer/f16x2 ops a pair (int8) or ~7 integer ops (e4m3, with its NaN codes); bf16 ~5 with one
// FADD an element (e4m3: one select more).
// sass-check: attention_splitkv_partial_i8_f16 LDGSTS HMMA
// sass-check: attention_splitkv_partial_i8_bf16 LDGSTS HMMA
// sass-check: attention_splitkv_partial_e4m3_f16 LDGSTS HMMA
// sass-check: attention_splitkv_partial_e4m3_bf16 LDGSTS HMMA
// kernel-target: attention_splitkv_partial_i8_f16 spills==0 ctas>=2 bar/iter==0
// kernel-target: attention_splitkv_partial_i8_bf16 spills==0 ctas>=2 bar/iter==0
// kernel-target: attention_splitkv_partial_e4m3_f16 spills==0 ctas>=2 bar/iter==0
// kernel-target: attention_splitkv_partial_e4m3_bf16 spills==0 ctas>=2 bar/iter==0
#define ATTENTION_SPLITKV_KV8_ENTRY(format, code, dtype, T)                                                        \
  extern "C" __global__ void __launch_bounds__(128, 3)                                                             \
      attention_splitkv_partial_##format##_##dtype(const __grid_constant__ attention::AttentionParams<T> params) { \
    KERNEL_REPORT_LAUNCH(128, (attention::splitkv::kPartialSharedMost<T>));                                        \
    attention::splitkv::attention_splitkv_partial<T, code>(params);                                                \
  }

ATTENTION_SPLITKV_KV8_ENTRY(i8, attention::splitkv::kKvInt8, f16, __half)
ATTENTION_SPLITKV_KV8_ENTRY(i8, attention::splitkv::kKvInt8, bf16, __nv_bfloat16)
ATTENTION_SPLITKV_KV8_ENTRY(e4m3, attention::splitkv::kKvE4m3, f16, __half)
ATTENTION_SPLITKV_KV8_ENTRY(e4m3, attention::splitkv::kKvE4m3, bf16, __nv_bfloat16)

#undef ATTENTION_SPLITKV_KV8_ENTRY
