// The body of attention_hopper (Native/attention_hopper.cu): the sm_90a forward kernel, FlashAttention-3 class.
//
// A CTA owns kBlockM = 128 query rows of one (batch, head) and has three warpgroups:
//   producer (warpgroup 0, setmaxnreg.dec to 24): one thread issues every TMA copy — Q once, then K and V of each key
//     block into a kStages-deep ring of shared-memory stages; "full" mbarriers count the bytes in (expect_tx), "empty"
//     mbarriers count the consumers out.
//   consumers (warpgroups 1 and 2, setmaxnreg.inc to 240): 64 query rows each. Per key block S = Q·Kᵀ on
//     wgmma.mma_async (Q and K from shared descriptors), the online softmax in registers, then O += P·V on wgmma with P
//     from registers (the accumulator fragment packed to f16/bf16 is the A fragment) and V from a transposed (N-major)
//     descriptor.
//   ping-pong: the two consumers take turns on the tensor cores through two named barriers — a consumer issues its
//     GEMMs (P·V of the previous block and Q·Kᵀ of this one, one commit group) only after the other has issued its
//     own, so one's softmax runs while the other's GEMMs do (FlashAttention-3, section 3.1).
// Semantics are attention_mma's (every option but the boolean mask and bias, which stay on the mma kernel): causal both
// alignments, key lengths, window, softcap, GQA, lse, rows that see no key → 0 (lse −∞).
#pragma once

#include "attention_common.cuh"
#include "attention_hopper_params.cuh"
#include "hopper/hopper_ptx.cuh"
#include "kernel_report.cuh"
#include "warp_matrix.cuh"

namespace attention {
namespace hopper {

constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

// The tile of one head-dim bucket. Shared memory: Q, then kStages stages of K and of V, each a column-block-major
// array of 64-column (128-byte) blocks of rows × 128 bytes, in TMA's 128-byte swizzle, every block 1024-byte aligned;
// then the mbarriers.
template <int HeadDim, int BlockN, int Stages>
struct Traits {
  static constexpr int kHeadDim = HeadDim;
  static constexpr int kBlockM = 128;             // 2 consumer warpgroups × wgmma's 64 rows
  static constexpr int kBlockN = BlockN;
  static constexpr int kStages = Stages;
  static constexpr int kConsumers = 2;
  static constexpr int kConsumerThreads = 128 * kConsumers;
  static constexpr int kThreads = 128 + kConsumerThreads;
  static constexpr int kColumnBlocks = HeadDim / 64;
  static constexpr int kQBytes = kBlockM * HeadDim * 2;
  static constexpr int kKvBytes = kBlockN * HeadDim * 2;  // one stage of K (or of V)
  static constexpr int kBarriers = 1 + 4 * kStages;       // q_full; k_full, v_full, k_empty, v_empty per stage
  // 1024 bytes of slack: the kernel rounds the dynamic shared memory's start up to the swizzle atom.
  static constexpr int kSharedBytes = 1024 + kQBytes + 2 * kStages * kKvBytes + 8 * kBarriers;
  // Registers: 384 threads at launch leave 168 each (65536 / 384, rounded down to 8); the producer gives back to 24
  // and the consumers take 240 (128·24 + 256·240 = 64512 <= 65536).
  static constexpr int kProducerRegisters = 24;
  static constexpr int kConsumerRegisters = 240;
  static_assert(HeadDim % 64 == 0 && BlockN % 16 == 0, "64-column blocks, 16-key wgmma steps");
  static_assert(kSharedBytes <= 227 * 1024, "sm_90's opt-in shared memory per block");
};

// Named barrier ids: 0 is __syncthreads'; 1 and 2 are the consumers' turns on the tensor cores; 3 orders the
// consumers' zero-fill of a V block's rows past the key length before either reads it.
constexpr int kTurnBarrier = 1;
constexpr int kZeroFillBarrier = 3;

template <typename T, class Tr>
__device__ __forceinline__ void attention_hopper(const HopperAttentionParams<T>& params) {
  constexpr int kM = Tr::kBlockM;
  constexpr int kN = Tr::kBlockN;
  constexpr int kD = Tr::kHeadDim;
  constexpr int kS = Tr::kStages;
  constexpr int kSRegs = kN / 2;  // m64nN accumulators per thread
  constexpr int kORegs = kD / 2;
  const int q_len = params.q_len;

  const int tid = static_cast<int>(threadIdx.x);
  const int warpgroup = tid >> 7;
  const int m0 = static_cast<int>(blockIdx.x) * kM;
  const int h = static_cast<int>(blockIdx.y);
  const int b = static_cast<int>(blockIdx.z);
  // The whole CTA leaves together: the __syncthreads below is reached by all of its threads or none.
  if (m0 >= q_len || h >= params.q_heads || b >= params.batch) {
    return;
  }

  extern __shared__ __align__(16) unsigned char attention_hopper_shared[];
  // The swizzle atoms must start 1024-byte aligned (TMA's 128-byte swizzle and the descriptors' base offset 0).
  unsigned char* const sq = attention_hopper_shared + ((1024u - (shared_address(attention_hopper_shared) & 1023u)) & 1023u);
  unsigned char* const sk = sq + Tr::kQBytes;  // stage s at sk + s · kKvBytes
  unsigned char* const sv = sk + kS * Tr::kKvBytes;
  uint64_t* const bars = reinterpret_cast<uint64_t*>(sv + kS * Tr::kKvBytes);
  uint64_t* const q_full = bars;
  auto k_full = [&](int s) { return bars + 1 + s; };
  auto v_full = [&](int s) { return bars + 1 + kS + s; };
  auto k_empty = [&](int s) { return bars + 1 + 2 * kS + s; };
  auto v_empty = [&](int s) { return bars + 1 + 3 * kS + s; };

  const int kv_head = h / (params.q_heads / params.kv_heads);
  const int key_length = key_length_of(params.key_lengths, b, params.k_len);
  const int rows_here = min(kM, q_len - m0);
  // As attention_mma: the tile's first and last rows bound the keys any row sees, and the keys every row sees whole.
  const KeyRange first = key_range(m0, q_len, key_length, params.causal, params.window_left, params.window_right);
  const KeyRange last =
      key_range(m0 + rows_here - 1, q_len, key_length, params.causal, params.window_left, params.window_right);
  const int n_begin = first.lo / kN;
  const int n_end = last.hi > first.lo ? (last.hi + kN - 1) / kN : n_begin;
  const int blocks = n_end - n_begin;

  if (tid == 0) {
    mbarrier_init(q_full, 1);
#pragma unroll
    for (int s = 0; s < kS; ++s) {
      mbarrier_init(k_full(s), 1);  // the producer's arrive.expect_tx; the copies' bytes complete the phase
      mbarrier_init(v_full(s), 1);
      mbarrier_init(k_empty(s), Tr::kConsumerThreads);  // every consumer thread arrives once it is done with a stage
      mbarrier_init(v_empty(s), Tr::kConsumerThreads);
    }
    fence_barrier_init();
  }
  __syncthreads();

  if (warpgroup == 0) {
    // Producer. Its phase parity for the empty barriers starts at 1: a fresh barrier's "preceding" phase counts as
    // complete, so the first kS stages are free without a wait.
    setmaxnreg_dec<Tr::kProducerRegisters>();
    if (tid == 0 && blocks > 0) {
      mbarrier_arrive_expect_tx(q_full, Tr::kQBytes);
#pragma unroll
      for (int c = 0; c < Tr::kColumnBlocks; ++c) {
        tma_load_4d(sq + c * kM * 128, &params.q_map, q_full, 64 * c, m0, h, b);
      }
      for (int i = 0; i < blocks; ++i) {
        const int stage = i % kS;
        const unsigned parity = ((i / kS) & 1) ^ 1;
        const int key0 = (n_begin + i) * kN;
        mbarrier_wait_parity(k_empty(stage), parity);
        mbarrier_arrive_expect_tx(k_full(stage), Tr::kKvBytes);
#pragma unroll
        for (int c = 0; c < Tr::kColumnBlocks; ++c) {
          tma_load_4d(sk + stage * Tr::kKvBytes + c * kN * 128, &params.k_map, k_full(stage), 64 * c, key0, kv_head, b);
        }
        mbarrier_wait_parity(v_empty(stage), parity);
        mbarrier_arrive_expect_tx(v_full(stage), Tr::kKvBytes);
#pragma unroll
        for (int c = 0; c < Tr::kColumnBlocks; ++c) {
          tma_load_4d(sv + stage * Tr::kKvBytes + c * kN * 128, &params.v_map, v_full(stage), 64 * c, key0, kv_head, b);
        }
      }
    }
    return;
  }

  // Consumers.
  setmaxnreg_inc<Tr::kConsumerRegisters>();
  // Warp-uniform as far as ptxas can tell (a shuffle from lane 0): the descriptors built from it stay in uniform
  // registers.
  const int consumer = __shfl_sync(kFullWarp, warpgroup - 1, 0);
  const int ctid = tid - 128;
  const int warp = (tid >> 5) & 3;
  const int lane = tid & 31;
  const int quad_lane = lane & 3;
  // The two rows of this thread's accumulator fragments (m16n8 layout, warp w of the warpgroup on rows 16w..16w+15).
  const int row0 = m0 + 64 * consumer + 16 * warp + (lane >> 2);
  const float scale = params.scale;
  const float softcap = params.softcap;
  const float scale_log2 = scale * kLog2e;
  const float inv_softcap = softcap > 0.0f ? 1.0f / softcap : 0.0f;
  const int inner_lo = last.lo;
  const int inner_hi = first.hi;
  KeyRange range[2];
#pragma unroll
  for (int half = 0; half < 2; ++half) {
    const int row = row0 + 8 * half;
    range[half] = row < q_len ? key_range(row, q_len, key_length, params.causal, params.window_left,
                                          params.window_right)
                              : KeyRange{0, 0};
  }

  float o_acc[kORegs];
#pragma unroll
  for (int i = 0; i < kORegs; ++i) o_acc[i] = 0.0f;
  float row_max[2] = {-INFINITY, -INFINITY};  // log2 units
  float row_sum[2] = {0.0f, 0.0f};            // this lane's part; the quad adds its four at the end
  // P of the previous block as m64k16 A fragments. Zero-initialised although iteration 0 issues no P·V: left undefined,
  // ptxas 12.4 serialises every wgmma of the kernel (C7513, a WARPGROUP.DEPBAR after each HGMMA).
  uint32_t p_frag[kN / 16][4] = {};

  // Descriptors: Q's and K's k-step kk lies in 64-column block kk / 4, 32 bytes in per step within it; V's k-step kk
  // (16 keys) starts 16 rows (2048 bytes) further, its 64-column blocks kN·128 bytes apart.
  // With the 128-byte swizzle a K-major operand's LBO is unused (16 by convention); SBO = 1024 steps 8-row groups.
  // V is N-major: LBO = kN · 128 steps its 64-column blocks, SBO = 1024 its 8-key groups.
  const uint32_t q_rows = shared_address(sq) + consumer * 64 * 128;
  const uint32_t k_base = shared_address(sk);
  const uint32_t v_base = shared_address(sv);
  auto q_desc = [&](int kk) {
    return make_smem_descriptor(q_rows + (kk >> 2) * kM * 128 + (kk & 3) * 32, 16, 1024, Swizzle::k128B);
  };
  auto k_desc = [&](int stage, int kk) {
    return make_smem_descriptor(k_base + stage * Tr::kKvBytes + (kk >> 2) * kN * 128 + (kk & 3) * 32, 16, 1024,
                                Swizzle::k128B);
  };
  auto v_desc = [&](int stage, int kk) {
    return make_smem_descriptor(v_base + stage * Tr::kKvBytes + kk * 16 * 128, kN * 128, 1024, Swizzle::k128B);
  };

  if (blocks > 0) {
    mbarrier_wait_parity(q_full, 0);
    // Consumer 0 goes first: consumer 1's arrival opens its first turn.
    if (consumer == 1) {
      named_barrier_arrive(kTurnBarrier, Tr::kConsumerThreads);
    }
    // Iteration i issues P·V of block i − 1 and Q·Kᵀ of block i, then runs the softmax of block i.
    for (int i = 0; i <= blocks; ++i) {
      const bool has_scores = i < blocks;
      const bool has_pv = i > 0;
      const int s_stage = i % kS;
      const int v_stage = (i + kS - 1) % kS;
      if (has_scores) {
        mbarrier_wait_parity(k_full(s_stage), (i / kS) & 1);
      }
      if (has_pv) {
        mbarrier_wait_parity(v_full(v_stage), ((i - 1) / kS) & 1);
        // Keys past the key length in a block that holds the last valid one: TMA brought the rows in (they are inside
        // the tensor), and P is 0 there, but 0 · NaN is NaN — a KV cache's unwritten tail may hold anything. Both
        // consumers zero the rows, then order their generic-proxy stores before wgmma's async-proxy reads.
        // Past k_len itself TMA has filled zeros already.
        const int key0 = (n_begin + i - 1) * kN;
        if (key0 + kN > key_length && key_length < params.k_len) {
          const int first_row = max(key_length - key0, 0);
          const int bytes_per_block = (kN - first_row) * 128;
          for (int x = ctid * 16; x < Tr::kColumnBlocks * bytes_per_block; x += Tr::kConsumerThreads * 16) {
            const int c = x / bytes_per_block;
            *reinterpret_cast<uint4*>(sv + v_stage * Tr::kKvBytes + c * kN * 128 + first_row * 128 + x % bytes_per_block) =
                uint4{0u, 0u, 0u, 0u};
          }
          fence_proxy_async_shared();
          named_barrier_sync(kZeroFillBarrier, Tr::kConsumerThreads);
        }
      }

      // The descriptors, computed before wgmma.fence.
      uint64_t v_descs[kN / 16];
      uint64_t qk_descs[kD / 16][2];
#pragma unroll
      for (int kk = 0; kk < kN / 16; ++kk) v_descs[kk] = v_desc(v_stage, kk);
#pragma unroll
      for (int kk = 0; kk < kD / 16; ++kk) {
        qk_descs[kk][0] = q_desc(kk);
        qk_descs[kk][1] = k_desc(s_stage, kk);
      }
      float s_acc[kSRegs];
      named_barrier_sync(kTurnBarrier + consumer, Tr::kConsumerThreads);
      wgmma_fence();
      if (has_pv) {
#pragma unroll
        for (int kk = 0; kk < kN / 16; ++kk) {
          wgmma_rs<kD, T, Major::kMN>(o_acc, p_frag[kk], v_descs[kk], 1);
        }
      }
      if (has_scores) {
#pragma unroll
        for (int kk = 0; kk < kD / 16; ++kk) {
          wgmma_ss<kN, T>(s_acc, qk_descs[kk][0], qk_descs[kk][1], kk > 0 ? 1 : 0);
        }
      }
      wgmma_commit();
      // The other consumer's turn; consumer 1's last arrival would have no turn of consumer 0 to open.
      if (!(consumer == 1 && i == blocks)) {
        named_barrier_arrive(kTurnBarrier + (consumer ^ 1), Tr::kConsumerThreads);
      }
      wgmma_wait<0>();
      fence_accumulators(o_acc);
      if (has_pv) {
        mbarrier_arrive(v_empty(v_stage));
      }
      if (!has_scores) {
        break;
      }
      fence_accumulators(s_acc);
      mbarrier_arrive(k_empty(s_stage));

      // Scores into log2 units, −∞ where hidden: attention_mma's fast path for blocks every row sees whole.
      const int key0 = (n_begin + i) * kN;
      const bool plain = key0 >= inner_lo && key0 + kN <= inner_hi && !(softcap > 0.0f) && scale_log2 > 0.0f;
      if (!plain) {
#pragma unroll
        for (int j = 0; j < kN / 8; ++j) {
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            const int half = e >> 1;
            const int key = key0 + 8 * j + 2 * quad_lane + (e & 1);
            float score = s_acc[4 * j + e] * scale;
            if (softcap > 0.0f) {
              score = softcap * tanhf(score * inv_softcap);
            }
            s_acc[4 * j + e] = key >= range[half].lo && key < range[half].hi ? score * kLog2e : -INFINITY;
          }
        }
      }
      const float to_log2 = plain ? scale_log2 : 1.0f;

      // Online softmax per row; the quad (4 lanes) holds the row's kN scores. While a row has seen no key its max is
      // −∞ and 0 stands in for it, so that 2^(t − max) is 0, not NaN.
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        float mx = s_acc[2 * half];
#pragma unroll
        for (int j = 0; j < kN / 8; ++j) {
          mx = fmaxf(mx, fmaxf(s_acc[4 * j + 2 * half], s_acc[4 * j + 2 * half + 1]));
        }
        mx = fmaxf(mx, __shfl_xor_sync(kFullWarp, mx, 1));
        mx = fmaxf(mx, __shfl_xor_sync(kFullWarp, mx, 2));
        mx = fmaxf(row_max[half], mx * to_log2);
        const float base = mx == -INFINITY ? 0.0f : mx;
        const float alpha = wm::exp2_approx(row_max[half] - base);
        row_max[half] = mx;
        float sum = row_sum[half] * alpha;
#pragma unroll
        for (int j = 0; j < kD / 8; ++j) {
          o_acc[4 * j + 2 * half] *= alpha;
          o_acc[4 * j + 2 * half + 1] *= alpha;
        }
#pragma unroll
        for (int j = 0; j < kN / 8; ++j) {
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            float& x = s_acc[4 * j + 2 * half + e];
            x = wm::exp2_approx(fmaf(x, to_log2, -base));
            sum += x;
          }
        }
        row_sum[half] = sum;
      }
      // P as the next P·V's A fragments: the accumulator pairs of n-tiles 2kk and 2kk + 1 (rows g and g + 8).
#pragma unroll
      for (int kk = 0; kk < kN / 16; ++kk) {
#pragma unroll
        for (int r = 0; r < 4; ++r) {
          const float* pair = &s_acc[8 * kk + 2 * r];
          p_frag[kk][r] = wm::pack_pair<T>(pair[0], pair[1]);
        }
      }
    }
  }

  // Epilogue: O = acc / l (0 for a row that saw no key), lse = max · ln 2 + ln l (−∞ for an empty row).
  const int value_dim = params.value_dim;
#pragma unroll
  for (int half = 0; half < 2; ++half) {
    float l = row_sum[half];
    l += __shfl_xor_sync(kFullWarp, l, 1);
    l += __shfl_xor_sync(kFullWarp, l, 2);
    const int i = row0 + 8 * half;
    if (i >= q_len) {
      continue;
    }
    const float inv = l > 0.0f ? 1.0f / l : 0.0f;
    T* const o_row = params.o + b * params.o_stride_b + h * params.o_stride_h + i * params.o_stride_s;
#pragma unroll
    for (int j = 0; j < kD / 8; ++j) {
      const int c = 8 * j + 2 * quad_lane;
      const float lo = o_acc[4 * j + 2 * half] * inv;
      const float hi = o_acc[4 * j + 2 * half + 1] * inv;
      if (c + 1 < value_dim) {
        wm::store_pair<T>(o_row + c, lo, hi);
      } else if (c < value_dim) {
        o_row[c] = from_float<T>(lo);
      }
    }
    if (params.lse != nullptr && quad_lane == 0) {
      params.lse[(static_cast<long long>(b) * params.q_heads + h) * q_len + i] =
          l > 0.0f ? row_max[half] * kLn2 + logf(l) : -INFINITY;
    }
  }
}

}  // namespace hopper
}  // namespace attention

// Defines the entry point attention_hopper_d<bucket>_<dtype> (attention_hopper.cu lists one per head-dim bucket).
// __launch_bounds__(384, 1): ptxas then budgets 168 registers per thread at launch, which setmaxnreg redistributes.
#define ATTENTION_HOPPER_ENTRY(bucket, dtype, T, Tr)                                                                 \
  extern "C" __global__ void __launch_bounds__(Tr::kThreads, 1)                                                      \
      attention_hopper_d##bucket##_##dtype(const __grid_constant__ attention::HopperAttentionParams<T> params) {     \
    KERNEL_REPORT_LAUNCH((Tr::kThreads), (Tr::kSharedBytes));                                                        \
    attention::hopper::attention_hopper<T, Tr>(params);                                                              \
  }
