// attention_simt_{f32,f16,bf16}: the reference-grade fused attention kernel (contract: Native/README.md).
//
// Simple and obviously correct rather than fast. One warp owns one query row (b, h, i) and walks its visible keys
// one at a time with the online softmax in fp32:
//   s  = dot(q_i, k_j) · scale              the warp splits the dot product over head_dim and sums with shuffles
//   s  = cap · tanh(s / cap)                softcap, on the scaled score, before the bias (when cap > 0)
//   s += bias[b, h, i, j]                   (when given)
//   key j skipped when j is outside the row's [lo, hi) (key length, causal, window) or mask[b, h, i, j] is false
//   m  = running max, l = running Σ exp(s − m), acc = running Σ exp(s − m) · v_j  (rescaled when m grows)
// then O = acc / l, lse = m + ln l, and — when asked — a second pass over the keys for p_j = exp(s_j − m) / l.
// A row with no visible key (l == 0) gets O = 0, lse = −∞ and probabilities 0: never NaN.
//
// Scores stay in natural-log units and use expf (no fast math): the error of exp(s − m) is then relative to s − m,
// not to |s|, and lse = m + ln l needs no change of base — what the float64 reference (ReferenceAttention.cs)
// computes, term for term. Both passes compute each score with the same code, so the probabilities are the exact
// terms of l. No atomics, no inter-warp communication: the results are deterministic.
//
// Native/emulation/attention_simt_emulation.cpp runs this file on the CPU against a float64 reference (./build.sh
// test does, where the CUDA toolkit is installed).

#include "attention_common.cuh"

namespace attention {

constexpr int kSimtWarpsPerBlock = 4;  // block (32, 4): warp y of block x owns query row 4x + y

// One query row's scores. Everything warp-uniform except the lane index, so every lane gets the same score (see
// warp_sum) and the warp never diverges on it.
template <typename T>
struct SimtRow {
  const float* q_row;            // the query row, widened to float, in this warp's shared memory
  const T* k_head;               // K of (b, kv head), row j at j · k_stride_s
  long long k_stride_s;
  const unsigned char* mask_row; // mask[b, h, i, :] or null
  const float* bias_row;         // bias[b, h, i, :] or null
  int head_dim;
  int lane;
  float scale;
  float softcap;

  // The score of key j in natural units, or −∞ where the boolean mask hides it (a −∞ bias gives −∞ too; both
  // mean p = 0, as exp(−∞ − max) = 0 in the reference).
  __device__ __forceinline__ float score(int j) const {
    if (mask_row != nullptr && mask_row[j] == 0) {
      return -INFINITY;
    }
    const T* k_row = k_head + static_cast<long long>(j) * k_stride_s;
    float partial = 0.0f;
    for (int x = lane; x < head_dim; x += kWarpSize) {
      partial = fmaf(q_row[x], to_float(k_row[x]), partial);
    }
    float s = warp_sum(partial) * scale;
    if (softcap > 0.0f) {
      s = softcap * tanhf(s / softcap);
    }
    if (bias_row != nullptr) {
      s += bias_row[j];
    }
    return s;
  }
};

template <typename T>
__device__ __forceinline__ void attention_simt(
    const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v, T* __restrict__ o,
    float* __restrict__ lse, float* __restrict__ probs, const unsigned char* __restrict__ mask,
    const float* __restrict__ bias, const int* __restrict__ key_lengths,
    int batch, int q_heads, int kv_heads, int q_len, int k_len, int head_dim, int value_dim,
    long long q_stride_b, long long q_stride_h, long long q_stride_s,
    long long k_stride_b, long long k_stride_h, long long k_stride_s,
    long long v_stride_b, long long v_stride_h, long long v_stride_s,
    long long o_stride_b, long long o_stride_h, long long o_stride_s,
    long long mask_stride_b, long long mask_stride_h,
    long long bias_stride_b, long long bias_stride_h,
    float scale, float softcap, int causal, int window_left, int window_right) {
  const int lane = static_cast<int>(threadIdx.x);
  const int warp = static_cast<int>(threadIdx.y);
  const int i = static_cast<int>(blockIdx.x) * kSimtWarpsPerBlock + warp;
  const int h = static_cast<int>(blockIdx.y);
  const int b = static_cast<int>(blockIdx.z);
  // Whole warps leave together (i is per warp), and nothing below synchronises the block.
  if (i >= q_len || h >= q_heads || b >= batch) {
    return;
  }

  // This warp's slice of dynamic shared memory: its query row, then its output accumulator. Lane t only ever
  // touches elements t, t + 32, … of either, so the lanes share nothing through it.
  extern __shared__ float shared[];
  float* q_row = shared + static_cast<long long>(warp) * (head_dim + value_dim);
  float* acc = q_row + head_dim;

  const int kv_head = h / (q_heads / kv_heads);  // GQA: consecutive query heads share a key/value head
  const T* q_ptr = q + b * q_stride_b + h * q_stride_h + i * q_stride_s;
  const T* k_head = k + b * k_stride_b + kv_head * k_stride_h;
  const T* v_head = v + b * v_stride_b + kv_head * v_stride_h;
  T* o_ptr = o + b * o_stride_b + h * o_stride_h + i * o_stride_s;
  const long long score_row = static_cast<long long>(i) * k_len;  // mask and bias rows are k_len apart

  for (int x = lane; x < head_dim; x += kWarpSize) {
    q_row[x] = to_float(q_ptr[x]);
  }
  for (int c = lane; c < value_dim; c += kWarpSize) {
    acc[c] = 0.0f;
  }
  __syncwarp();

  SimtRow<T> row;
  row.q_row = q_row;
  row.k_head = k_head;
  row.k_stride_s = k_stride_s;
  row.mask_row = mask == nullptr ? nullptr : mask + b * mask_stride_b + h * mask_stride_h + score_row;
  row.bias_row = bias == nullptr ? nullptr : bias + b * bias_stride_b + h * bias_stride_h + score_row;
  row.head_dim = head_dim;
  row.lane = lane;
  row.scale = scale;
  row.softcap = softcap;

  const KeyRange range = key_range(i, q_len, key_length_of(key_lengths, b, k_len), causal, window_left,
                                   window_right);

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
    const T* v_row = v_head + static_cast<long long>(j) * v_stride_s;
    for (int c = lane; c < value_dim; c += kWarpSize) {
      acc[c] = fmaf(p, to_float(v_row[c]), acc[c] * alpha);
    }
    m = m_new;
  }

  // l >= 1 once any key is visible (its max term is exp(0)), so l == 0 means a fully masked row.
  const bool any_visible = l > 0.0f;
  for (int c = lane; c < value_dim; c += kWarpSize) {
    o_ptr[c] = from_float<T>(any_visible ? acc[c] / l : 0.0f);
  }

  const long long out_row = (static_cast<long long>(b) * q_heads + h) * q_len + i;  // [B, Hq, Lq] order
  if (lse != nullptr && lane == 0) {
    lse[out_row] = any_visible ? m + logf(l) : -INFINITY;
  }

  if (probs != nullptr) {
    float* p_row = probs + out_row * k_len;
    // Lanes zero the keys outside [lo, hi) (all of them for a fully masked row); lane 0 writes [lo, hi) below.
    for (int j = lane; j < k_len; j += kWarpSize) {
      if (!any_visible || j < range.lo || j >= range.hi) {
        p_row[j] = 0.0f;
      }
    }
    if (any_visible) {
      for (int j = range.lo; j < range.hi; ++j) {
        const float s = row.score(j);
        if (lane == 0) {
          p_row[j] = s == -INFINITY ? 0.0f : expf(s - m) / l;
        }
      }
    }
  }
}

}  // namespace attention

// The entry points: one per element type, parameters exactly as in Native/README.md. The signatures are written
// out (no macros) so that the launcher generator and a reader see the ABI as it is.
// ./build.sh test checks that the dot products reduce with butterfly shuffles (see build.sh, "sass-check"):
// sass-check: attention_simt_f32 SHFL.BFLY
// sass-check: attention_simt_f16 SHFL.BFLY
// sass-check: attention_simt_bf16 SHFL.BFLY
#define ATTENTION_SIMT_FORWARD                                                                                      \
  q, k, v, o, lse, probs, mask, bias, key_lengths, batch, q_heads, kv_heads, q_len, k_len, head_dim, value_dim,    \
      q_stride_b, q_stride_h, q_stride_s, k_stride_b, k_stride_h, k_stride_s, v_stride_b, v_stride_h, v_stride_s,  \
      o_stride_b, o_stride_h, o_stride_s, mask_stride_b, mask_stride_h, bias_stride_b, bias_stride_h, scale,       \
      softcap, causal, window_left, window_right

extern "C" __global__ void attention_simt_f32(
    const float* q, const float* k, const float* v, float* o,
    float* lse, float* probs, const unsigned char* mask, const float* bias, const int* key_lengths,
    int batch, int q_heads, int kv_heads, int q_len, int k_len, int head_dim, int value_dim,
    long long q_stride_b, long long q_stride_h, long long q_stride_s,
    long long k_stride_b, long long k_stride_h, long long k_stride_s,
    long long v_stride_b, long long v_stride_h, long long v_stride_s,
    long long o_stride_b, long long o_stride_h, long long o_stride_s,
    long long mask_stride_b, long long mask_stride_h,
    long long bias_stride_b, long long bias_stride_h,
    float scale, float softcap, int causal, int window_left, int window_right) {
  attention::attention_simt<float>(ATTENTION_SIMT_FORWARD);
}

extern "C" __global__ void attention_simt_f16(
    const __half* q, const __half* k, const __half* v, __half* o,
    float* lse, float* probs, const unsigned char* mask, const float* bias, const int* key_lengths,
    int batch, int q_heads, int kv_heads, int q_len, int k_len, int head_dim, int value_dim,
    long long q_stride_b, long long q_stride_h, long long q_stride_s,
    long long k_stride_b, long long k_stride_h, long long k_stride_s,
    long long v_stride_b, long long v_stride_h, long long v_stride_s,
    long long o_stride_b, long long o_stride_h, long long o_stride_s,
    long long mask_stride_b, long long mask_stride_h,
    long long bias_stride_b, long long bias_stride_h,
    float scale, float softcap, int causal, int window_left, int window_right) {
  attention::attention_simt<__half>(ATTENTION_SIMT_FORWARD);
}

extern "C" __global__ void attention_simt_bf16(
    const __nv_bfloat16* q, const __nv_bfloat16* k, const __nv_bfloat16* v, __nv_bfloat16* o,
    float* lse, float* probs, const unsigned char* mask, const float* bias, const int* key_lengths,
    int batch, int q_heads, int kv_heads, int q_len, int k_len, int head_dim, int value_dim,
    long long q_stride_b, long long q_stride_h, long long q_stride_s,
    long long k_stride_b, long long k_stride_h, long long k_stride_s,
    long long v_stride_b, long long v_stride_h, long long v_stride_s,
    long long o_stride_b, long long o_stride_h, long long o_stride_s,
    long long mask_stride_b, long long mask_stride_h,
    long long bias_stride_b, long long bias_stride_h,
    float scale, float softcap, int causal, int window_left, int window_right) {
  attention::attention_simt<__nv_bfloat16>(ATTENTION_SIMT_FORWARD);
}

#undef ATTENTION_SIMT_FORWARD
