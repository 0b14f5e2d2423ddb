// attention_simt_{f32,f16,bf16}: the reference-grade fused attention kernel (contract: Native/README.md).
//
// Simple and obviously correct rather than fast. One warp owns one query row (b, h, i) and walks its visible keys
// one at a time with the online softmax in fp32:
//   s  = dot(q_i, k_j) · scale              the warp splits the dot product over head_dim and sums with shuffles
//   s  = cap · tanh(s / cap)                softcap, on the scaled score, before the bias (when cap > 0)
//   s += bias[b, h, i, j]                   (when given)
//   key j skipped when j is outside the row's [lo, hi) (key length, causal, window) or mask[b, h, i, j] is false
//   m  = running max, l = running Σ exp(s − m), acc = running Σ exp(s − m) · v_j  (rescaled when m grows)
// then O = acc / l, lse = m + ln l, and — when asked — a second pass over the keys for p_j = exp(s_j − m) / l; a sink
// (fold_sink) then scales O and p and joins lse. A row with no visible key (l == 0) gets O = 0, lse = −∞ (the sink,
// where there is one) and probabilities 0: never NaN. In a varlen call warp rows past their sequence's length leave.
// Paged K/V (attention_paged.cuh): each key's page is looked up where the key is read, so any page size runs here.
//
// Scores stay in natural-log units and use expf (no fast math): the error of exp(s − m) is then relative to s − m,
// not to |s|, and lse = m + ln l needs no change of base — what the float64 reference (ReferenceAttention.cs)
// computes, term for term. Both passes compute each score with the same code, so the probabilities are the exact
// terms of l. No atomics, no inter-warp communication: the results are deterministic.
//
// The inputs (q, k, v, mask, bias) are read with __ldg, through the read-only data cache: the kernel never writes them,
// and the compiler cannot prove that from pointers held in the parameter struct (a member carries no __restrict__).
//
// Native/emulation/attention_simt_emulation.cpp runs this file on the CPU against a float64 reference (./build.sh
// test does, where the CUDA toolkit is installed).

#include "attention_common.cuh"
#include "attention_paged.cuh"
#include "kernel_report.cuh"

namespace attention {

constexpr int kSimtWarpsPerBlock = 4;  // block (32, 4): warp y of block x owns query row 4x + y
constexpr int kSimtThreads = kWarpSize * kSimtWarpsPerBlock;

// One query row's scores. Everything warp-uniform except the lane index, so every lane gets the same score (see
// warp_sum) and the warp never diverges on it.
template <typename T>
struct SimtRow {
  const float* q_row;            // the query row, widened to float, in this warp's shared memory
  const T* k_head;               // K of (b, kv head), row j at j · k_stride_s; of the kv head alone where paged
  long long k_stride_s;
  const AttentionParams<T>* paged;  // the parameters where K/V are paged (a page looked up per key), else null
  int b;
  const unsigned char* mask_row; // mask[b, h, i, :] or null
  const float* bias_row;         // bias[b, h, i, :] or null
  int head_dim;
  int lane;
  float scale;
  float softcap;

  // The score of key j in natural units, or −∞ where the boolean mask hides it (a −∞ bias gives −∞ too; both
  // mean p = 0, as exp(−∞ − max) = 0 in the reference).
  __device__ __forceinline__ float score(int j) const {
    if (mask_row != nullptr && __ldg(&mask_row[j]) == 0) {
      return -INFINITY;
    }
    const T* k_row = paged == nullptr ? k_head + static_cast<long long>(j) * k_stride_s
                                      : k_head + paged_offset(*paged, b, j, paged->k_stride_b, k_stride_s);
    float partial = 0.0f;
    for (int x = lane; x < head_dim; x += kWarpSize) {
      partial = fmaf(q_row[x], to_float(__ldg(&k_row[x])), partial);
    }
    float s = warp_sum(partial) * scale;
    if (softcap > 0.0f) {
      s = softcap * tanhf(s / softcap);
    }
    if (bias_row != nullptr) {
      s += __ldg(&bias_row[j]);
    }
    return s;
  }
};

template <typename T>
__device__ __forceinline__ void attention_simt(const AttentionParams<T>& params) {
  const int lane = static_cast<int>(threadIdx.x);
  const int warp = static_cast<int>(threadIdx.y);
  const int i = static_cast<int>(blockIdx.x) * kSimtWarpsPerBlock + warp;
  const int h = static_cast<int>(blockIdx.y);
  const int b = static_cast<int>(blockIdx.z);
  // Whole warps leave together (i is per warp), and nothing below synchronises the block.
  if (i >= params.q_len || h >= params.q_heads || b >= params.batch) {
    return;
  }
  const SequenceRows seq = sequence_rows(params, b);  // a varlen call's packed sequence b; else the whole entry
  if (i >= seq.q_len) {
    return;
  }

  // This warp's slice of dynamic shared memory: its query row, then its output accumulator. Lane t only ever
  // touches elements t, t + 32, … of either, so the lanes share nothing through it.
  extern __shared__ float shared[];
  float* q_row = shared + static_cast<long long>(warp) * (params.head_dim + params.value_dim);
  float* acc = q_row + params.head_dim;

  const int kv_head = h / (params.q_heads / params.kv_heads);  // GQA: consecutive query heads share a key/value head
  const T* q_ptr = params.q + b * params.q_stride_b + h * params.q_stride_h + (seq.q_first + i) * params.q_stride_s;
  // Paged K/V: the kv head's base in the page pool, each key's page added where the key is read.
  const bool paged = is_paged(params);
  const T* k_head = paged ? params.k + kv_head * params.k_stride_h
                          : params.k + b * params.k_stride_b + kv_head * params.k_stride_h + seq.k_first * params.k_stride_s;
  const T* v_head = paged ? params.v + kv_head * params.v_stride_h
                          : params.v + b * params.v_stride_b + kv_head * params.v_stride_h + seq.k_first * params.v_stride_s;
  T* o_ptr = params.o + b * params.o_stride_b + h * params.o_stride_h + (seq.q_first + i) * params.o_stride_s;
  const long long score_row = static_cast<long long>(i) * params.k_len;  // mask and bias rows are k_len apart

  for (int x = lane; x < params.head_dim; x += kWarpSize) {
    q_row[x] = to_float(__ldg(&q_ptr[x]));
  }
  for (int c = lane; c < params.value_dim; c += kWarpSize) {
    acc[c] = 0.0f;
  }
  __syncwarp();

  SimtRow<T> row;
  row.q_row = q_row;
  row.k_head = k_head;
  row.k_stride_s = params.k_stride_s;
  row.paged = paged ? &params : nullptr;
  row.b = b;
  row.mask_row = params.mask == nullptr
                     ? nullptr
                     : params.mask + b * params.mask_stride_b + h * params.mask_stride_h + score_row;
  row.bias_row = params.bias == nullptr
                     ? nullptr
                     : params.bias + b * params.bias_stride_b + h * params.bias_stride_h + score_row;
  row.head_dim = params.head_dim;
  row.lane = lane;
  row.scale = params.scale;
  row.softcap = params.softcap;

  const KeyRange range = key_range(i, seq.q_len, seq.k_len, params.causal, params.window_left, params.window_right);

  float m = -INFINITY;  // running max of the visible scores
  float l = 0.0f;       // running Σ exp(s − m)
  for (int j = range.lo; j < range.hi; ++j) {
    const float s = row.score(j);
    if (s == -INFINITY) {
      continue;  // p = 0: adds nothing, and m stays −∞ until a key is visible
    }
    const float m_new = fmaxf(m, s);
    const float alpha = expf(m - m_new);  // 0 for the first visible key (m = −∞), 1 while the max holds
    const float p = expf(s - m_new);
    l = fmaf(l, alpha, p);
    const T* v_row = paged ? v_head + paged_offset(params, b, j, params.v_stride_b, params.v_stride_s)
                           : v_head + static_cast<long long>(j) * params.v_stride_s;
    for (int c = lane; c < params.value_dim; c += kWarpSize) {
      acc[c] = fmaf(p, to_float(__ldg(&v_row[c])), acc[c] * alpha);
    }
    m = m_new;
  }

  // l >= 1 once any key is visible (its max term is exp(0)), so l == 0 means a fully masked row.
  const bool any_visible = l > 0.0f;
  const SinkFold sink = fold_sink(any_visible ? m + logf(l) : -INFINITY, sink_of(params, h));
  for (int c = lane; c < params.value_dim; c += kWarpSize) {
    o_ptr[c] = from_float<T>(any_visible ? acc[c] / l * sink.factor : 0.0f);
  }

  if (params.lse != nullptr && lane == 0) {
    params.lse[lse_index(params, seq.q_first, b, h, i)] = sink.lse;
  }

  if (params.probs != nullptr) {  // padded calls only: a varlen call has no probabilities output
    const long long out_row = (static_cast<long long>(b) * params.q_heads + h) * params.q_len + i;  // [B, Hq, Lq] order
    float* p_row = params.probs + out_row * params.k_len;
    // Lanes zero the keys outside [lo, hi) (all of them for a fully masked row); lane 0 writes [lo, hi) below.
    for (int j = lane; j < params.k_len; j += kWarpSize) {
      if (!any_visible || j < range.lo || j >= range.hi) {
        p_row[j] = 0.0f;
      }
    }
    if (any_visible) {
      for (int j = range.lo; j < range.hi; ++j) {
        const float s = row.score(j);
        if (lane == 0) {
          p_row[j] = s == -INFINITY ? 0.0f : expf(s - m) / l * sink.factor;
        }
      }
    }
  }
}

}  // namespace attention

// The entry points, one per element type, each taking the family's parameter struct (Native/README.md):
// ATTENTION_SIMT_ENTRY(f16, __half) defines attention_simt_f16.
// ./build.sh test checks that the dot products reduce with butterfly shuffles (see build.sh, "sass-check"):
// sass-check: attention_simt_f32 SHFL.BFLY
// sass-check: attention_simt_f16 SHFL.BFLY
// sass-check: attention_simt_bf16 SHFL.BFLY
// __launch_bounds__: the row of a warp is blockIdx.x · 4 + threadIdx.y, so a block of other than 128 threads would
// compute wrong rows; the bound makes the driver reject such a launch (and ptxas, free of the default's limit on
// 1024-thread blocks, keeps the same 0 spills). The dynamic shared memory, 4·(D + Dv) floats, grows with the head
// dims: the report states the most the launcher (AttentionSimtGeometry) asks for, so its CTAs per SM are a floor.
#define ATTENTION_SIMT_ENTRY(dtype, T)                                                                              \
  extern "C" __global__ void __launch_bounds__(attention::kSimtThreads)                                             \
      attention_simt_##dtype(const __grid_constant__ attention::AttentionParams<T> params) {                        \
    KERNEL_REPORT_LAUNCH(attention::kSimtThreads, kKernelReportMaxDynamicSharedBytes);                              \
    attention::attention_simt<T>(params);                                                                           \
  }

ATTENTION_SIMT_ENTRY(f32, float)
ATTENTION_SIMT_ENTRY(f16, __half)
ATTENTION_SIMT_ENTRY(bf16, __nv_bfloat16)

#undef ATTENTION_SIMT_ENTRY
