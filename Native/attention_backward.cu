// attention_backward_{prepare,simt,dq}_{f32,f16,bf16}: the reference-grade attention backward (FlashAttention-2's
// structure on SIMT cores), every option of the forward, every element type, accumulation in fp32.
//
// Three launches on one stream, each taking AttentionBackwardParams<T> (attention_backward_params.cuh):
//   prepare   one warp per query row: delta = rowsum(dO ∘ O) (FlashAttention-2's D), and the row's fp32 dQ
//             accumulator zeroed; with sink_grad, the row's share of the sink gradient, −exp(sink − lse)·delta
//             (a sink only joins the denominator, so it scales every P of the row), added by an fp32 atomic;
//   simt      one CTA per (key block of kBwdBlockN keys, kv head, batch): the block's K and V rows staged in shared
//             memory, dK and dV accumulated in shared memory, a loop over the query heads of the group (GQA/MQA: dK
//             and dV summed over them without atomics) and over query blocks of kBwdBlockM rows, recomputing
//             P = exp(s − lse) from the forward's log-sum-exp, never storing Lq × Lk:
//               s   = scale · q·k, then cap · tanh(s / cap) (softcap), then + bias      as the forward
//               P   = exp(s − lse) on the keys the row sees (key length, causal, window, mask), else 0
//               dV += Pᵀ dO      dP = dO Vᵀ      dS = P ∘ (dP − delta)
//               biasGrad += dS   (atomics: the bias may be broadcast over batch and heads)
//               G   = dS · (1 − tanh²) · scale    (the softcap's derivative; 1 without softcap)
//               dK += Gᵀ Q       dQ += G K        (dQ by fp32 atomics into dq_accum)
//   dq        one warp per query row: dQ = dq_accum rounded to T at dQ's strides.
// dQ by atomics rather than a separate pass: a query row's dQ sums over every key block, which different CTAs own;
// a second pass owning query blocks would recompute both score products (Q Kᵀ and dO Vᵀ) of every visible pair
// again, where the atomics cost one fp32 add per dQ element per key block (FlashAttention-2 makes the same choice).
// The price is that the order of those adds, and of the bias-gradient adds over broadcast dims, is not fixed.
//
// A row with lse = −∞ (no visible key in the forward) gets P = 0 everywhere: zero gradients, never NaN. Keys the row
// cannot see get P = 0 and dS = 0. Keys past a batch entry's key length get dK = dV = 0.
// Scores use expf/tanhf (no fast math), as attention_simt does, so P matches the forward's probabilities.
//
// Native/emulation/attention_backward_emulation.cpp runs this file on the CPU against a float64 backward.

#include "attention_backward_common.cuh"
#include "kernel_report.cuh"

namespace attention {

constexpr int kBwdThreads = 128;   // 4 warps
constexpr int kBwdRowWarps = 4;    // prepare and dq: block (32, 4), warp y of block x owns query row 4x + y
constexpr int kBwdBlockN = 16;     // keys per CTA of attention_backward_simt
constexpr int kBwdBlockM = 16;     // query rows per iteration of its loop
constexpr int kBwdPairs = kBwdBlockN * kBwdBlockM;
constexpr int kBwdPairStride = kBwdBlockN + 1;  // P and G rows, padded so a column walk does not hit one bank

// Floats of attention_backward_simt's dynamic shared memory (the launcher, AttentionBackwardGeometry, computes the
// same): K, V, Q and dO tiles with rows padded by one float (a warp reads 16 different rows at one column: with the
// pad they sit in 16 different banks), the dK and dV accumulators, lse and delta of the query block, P and G.
__host__ __device__ constexpr long long backward_shared_floats(int head_dim, int value_dim) {
  return static_cast<long long>(kBwdBlockN) * (head_dim + 1 + value_dim + 1 + head_dim + value_dim) +
         static_cast<long long>(kBwdBlockM) * (head_dim + 1 + value_dim + 1 + 2) + 2LL * kBwdBlockM * kBwdPairStride;
}

template <typename T>
__device__ __forceinline__ void attention_backward_prepare(const AttentionBackwardParams<T>& params) {
  const int lane = static_cast<int>(threadIdx.x);
  const int i = static_cast<int>(blockIdx.x) * kBwdRowWarps + static_cast<int>(threadIdx.y);
  const int h = static_cast<int>(blockIdx.y);
  const int b = static_cast<int>(blockIdx.z);
  if (i >= params.q_len || h >= params.q_heads || b >= params.batch) {
    return;  // whole warps leave together; nothing below synchronises the block
  }
  const T* o_row = params.o + b * params.o_stride_b + h * params.o_stride_h + i * params.o_stride_s;
  const T* do_row = params.d_o + b * params.do_stride_b + h * params.do_stride_h + i * params.do_stride_s;
  float partial = 0.0f;
  for (int c = lane; c < params.value_dim; c += kWarpSize) {
    partial = fmaf(to_float(__ldg(&do_row[c])), to_float(__ldg(&o_row[c])), partial);
  }
  const float delta = warp_sum(partial);
  const long long row = backward_row(b, h, i, params.q_heads, params.q_len);
  if (lane == 0) {
    params.delta[row] = delta;
    if (params.sink_grad != nullptr) {
      atomicAdd(&params.sink_grad[h], -expf(params.sinks[h] - params.lse[row]) * delta);
    }
  }
  float* accum = params.dq_accum + row * params.head_dim;
  for (int x = lane; x < params.head_dim; x += kWarpSize) {
    accum[x] = 0.0f;
  }
}

template <typename T>
__device__ __forceinline__ void attention_backward_dq(const AttentionBackwardParams<T>& params) {
  const int lane = static_cast<int>(threadIdx.x);
  const int i = static_cast<int>(blockIdx.x) * kBwdRowWarps + static_cast<int>(threadIdx.y);
  const int h = static_cast<int>(blockIdx.y);
  const int b = static_cast<int>(blockIdx.z);
  if (i >= params.q_len || h >= params.q_heads || b >= params.batch) {
    return;
  }
  const float* accum = params.dq_accum + backward_row(b, h, i, params.q_heads, params.q_len) * params.head_dim;
  T* dq_row = params.dq + b * params.dq_stride_b + h * params.dq_stride_h + i * params.dq_stride_s;
  for (int x = lane; x < params.head_dim; x += kWarpSize) {
    dq_row[x] = from_float<T>(accum[x]);
  }
}


template <typename T>
__device__ __forceinline__ void attention_backward_simt(const AttentionBackwardParams<T>& params) {
  const int t = static_cast<int>(threadIdx.x);
  const int n0 = static_cast<int>(blockIdx.x) * kBwdBlockN;
  const int kv_head = static_cast<int>(blockIdx.y);
  const int b = static_cast<int>(blockIdx.z);
  if (n0 >= params.k_len || kv_head >= params.kv_heads || b >= params.batch) {
    return;  // the whole block leaves together
  }
  const int d = params.head_dim;
  const int dv = params.value_dim;
  const int kd = d + 1;   // padded row strides of the staged tiles
  const int kvd = dv + 1;

  extern __shared__ float shared[];
  float* k_s = shared;                          // [N][d + 1]
  float* v_s = k_s + kBwdBlockN * kd;           // [N][dv + 1]
  float* dk_s = v_s + kBwdBlockN * kvd;         // [N][d]
  float* dv_s = dk_s + kBwdBlockN * d;          // [N][dv]
  float* q_s = dv_s + kBwdBlockN * dv;          // [M][d + 1]
  float* do_s = q_s + kBwdBlockM * kd;          // [M][dv + 1]
  float* lse_s = do_s + kBwdBlockM * kvd;       // [M]
  float* delta_s = lse_s + kBwdBlockM;          // [M]
  float* p_s = delta_s + kBwdBlockM;            // [M][N + 1]
  float* g_s = p_s + kBwdBlockM * kBwdPairStride;  // [M][N + 1]

  const int key_length = key_length_of(params.key_lengths, b, params.k_len);
  const int keys = min(kBwdBlockN, params.k_len - n0);  // rows of this block that exist (>= 1)
  const T* k_head = params.k + b * params.k_stride_b + kv_head * params.k_stride_h;
  const T* v_head = params.v + b * params.v_stride_b + kv_head * params.v_stride_h;
  for (int e = t; e < kBwdBlockN * d; e += kBwdThreads) {
    const int j = e / d, x = e - j * d;
    k_s[j * kd + x] = j < keys ? to_float(__ldg(&k_head[static_cast<long long>(n0 + j) * params.k_stride_s + x])) : 0.0f;
    dk_s[e] = 0.0f;
  }
  for (int e = t; e < kBwdBlockN * dv; e += kBwdThreads) {
    const int j = e / dv, c = e - j * dv;
    v_s[j * kvd + c] = j < keys ? to_float(__ldg(&v_head[static_cast<long long>(n0 + j) * params.v_stride_s + c])) : 0.0f;
    dv_s[e] = 0.0f;
  }

  const int group = params.q_heads / params.kv_heads;  // GQA: consecutive query heads share a key/value head
  for (int hg = 0; hg < group; ++hg) {
    const int h = kv_head * group + hg;
    const BackwardHead<T> head = backward_head(params, b, h);
    for (int m0 = 0; m0 < params.q_len; m0 += kBwdBlockM) {
      if (!query_block_sees_keys(params, m0, kBwdBlockM, key_length, n0, n0 + keys)) {
        continue;
      }

      __syncthreads();  // the previous block's readers of q_s, do_s, p_s and g_s are done
      const int rows = min(kBwdBlockM, params.q_len - m0);
      for (int e = t; e < kBwdBlockM * d; e += kBwdThreads) {
        const int r = e / d, x = e - r * d;
        q_s[r * kd + x] = r < rows ? to_float(__ldg(&head.q[static_cast<long long>(m0 + r) * params.q_stride_s + x])) : 0.0f;
      }
      for (int e = t; e < kBwdBlockM * dv; e += kBwdThreads) {
        const int r = e / dv, c = e - r * dv;
        do_s[r * kvd + c] = r < rows ? to_float(__ldg(&head.d_o[static_cast<long long>(m0 + r) * params.do_stride_s + c])) : 0.0f;
      }
      if (t < kBwdBlockM) {
        const long long row = backward_row(b, h, m0 + t, params.q_heads, params.q_len);
        lse_s[t] = t < rows ? __ldg(&params.lse[row]) : -INFINITY;
        delta_s[t] = t < rows ? params.delta[row] : 0.0f;
      }
      __syncthreads();

      // P and G of each (row, key) pair of the block: thread t takes pairs t and t + 128, a warp two rows × 16 keys.
      for (int pair = t; pair < kBwdPairs; pair += kBwdThreads) {
        const int r = pair / kBwdBlockN, j = pair - r * kBwdBlockN;
        const int i = m0 + r, key = n0 + j;
        float p = 0.0f, g = 0.0f;
        const float lse = lse_s[r];
        const long long at = static_cast<long long>(i) * params.k_len + key;
        if (r < rows && j < keys && lse != -INFINITY && pair_visible(params, head, i, key, key_length, at)) {
          float dot = 0.0f;
          for (int x = 0; x < d; ++x) {
            dot = fmaf(q_s[r * kd + x], k_s[j * kd + x], dot);
          }
          float dp = 0.0f;
          for (int c = 0; c < dv; ++c) {
            dp = fmaf(do_s[r * kvd + c], v_s[j * kvd + c], dp);
          }
          pair_gradient(params, head, at, dot, dp, lse, delta_s[r], p, g);
        }
        p_s[r * kBwdPairStride + j] = p;
        g_s[r * kBwdPairStride + j] = g;
      }
      __syncthreads();

      // dV += Pᵀ dO and dK += Gᵀ Q: each thread owns the same accumulator elements for the whole kernel.
      for (int e = t; e < kBwdBlockN * dv; e += kBwdThreads) {
        const int j = e / dv, c = e - j * dv;
        float acc = dv_s[e];
        for (int r = 0; r < rows; ++r) {
          acc = fmaf(p_s[r * kBwdPairStride + j], do_s[r * kvd + c], acc);
        }
        dv_s[e] = acc;
      }
      for (int e = t; e < kBwdBlockN * d; e += kBwdThreads) {
        const int j = e / d, x = e - j * d;
        float acc = dk_s[e];
        for (int r = 0; r < rows; ++r) {
          acc = fmaf(g_s[r * kBwdPairStride + j], q_s[r * kd + x], acc);
        }
        dk_s[e] = acc;
      }
      // dQ += G K: this block's share, added to the fp32 accumulator the other key blocks add to.
      for (int e = t; e < rows * d; e += kBwdThreads) {
        const int r = e / d, x = e - r * d;
        float acc = 0.0f;
        for (int j = 0; j < keys; ++j) {
          acc = fmaf(g_s[r * kBwdPairStride + j], k_s[j * kd + x], acc);
        }
        if (acc != 0.0f) {
          atomicAdd(&params.dq_accum[backward_row(b, h, m0 + r, params.q_heads, params.q_len) * d + x], acc);
        }
      }
    }
  }

  // Each key of the block belongs to this CTA alone: dK and dV are stored, not added.
  __syncthreads();
  T* dk_head = params.dk + b * params.dk_stride_b + kv_head * params.dk_stride_h;
  T* dv_head = params.dv + b * params.dv_stride_b + kv_head * params.dv_stride_h;
  for (int e = t; e < keys * d; e += kBwdThreads) {
    const int j = e / d, x = e - j * d;
    dk_head[static_cast<long long>(n0 + j) * params.dk_stride_s + x] = from_float<T>(dk_s[e]);
  }
  for (int e = t; e < keys * dv; e += kBwdThreads) {
    const int j = e / dv, c = e - j * dv;
    dv_head[static_cast<long long>(n0 + j) * params.dv_stride_s + c] = from_float<T>(dv_s[e]);
  }
}

}  // namespace attention

// The entry points, three per element type, each taking the backward's parameter struct (Native/README.md):
// ATTENTION_BACKWARD_ENTRIES(f16, __half) defines attention_backward_prepare_f16, _simt_f16 and _dq_f16.
// __launch_bounds__: every entry's thread indexing assumes its block (32, 4) or (128): the bound makes the driver
// reject another size. attention_backward_simt's dynamic shared memory grows with the head dims: the report states
// the most the launcher (AttentionBackwardGeometry) asks for, so its CTAs per SM are a floor.
// kernel-target: attention_backward_simt_f32 spills==0
// kernel-target: attention_backward_simt_f16 spills==0
// kernel-target: attention_backward_simt_bf16 spills==0
#define ATTENTION_BACKWARD_ENTRIES(dtype, T)                                                                        \
  extern "C" __global__ void __launch_bounds__(attention::kBwdThreads)                                             \
      attention_backward_prepare_##dtype(const __grid_constant__ attention::AttentionBackwardParams<T> params) {  \
    KERNEL_REPORT_LAUNCH(attention::kBwdThreads, 0);                                                              \
    attention::attention_backward_prepare<T>(params);                                                             \
  }                                                                                                                \
  extern "C" __global__ void __launch_bounds__(attention::kBwdThreads)                                             \
      attention_backward_simt_##dtype(const __grid_constant__ attention::AttentionBackwardParams<T> params) {     \
    KERNEL_REPORT_LAUNCH(attention::kBwdThreads, kKernelReportMaxDynamicSharedBytes);                             \
    attention::attention_backward_simt<T>(params);                                                                \
  }                                                                                                                \
  extern "C" __global__ void __launch_bounds__(attention::kBwdThreads)                                             \
      attention_backward_dq_##dtype(const __grid_constant__ attention::AttentionBackwardParams<T> params) {       \
    KERNEL_REPORT_LAUNCH(attention::kBwdThreads, 0);                                                              \
    attention::attention_backward_dq<T>(params);                                                                  \
  }

ATTENTION_BACKWARD_ENTRIES(f32, float)
ATTENTION_BACKWARD_ENTRIES(f16, __half)
ATTENTION_BACKWARD_ENTRIES(bf16, __nv_bfloat16)

#undef ATTENTION_BACKWARD_ENTRIES
