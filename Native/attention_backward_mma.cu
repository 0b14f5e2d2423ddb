// attention_backward_mma_d{64,128}_{f16,bf16}: the attention backward's middle launch on the tensor cores
// (mma.sync m16n8k16, fp32 accumulators), in place of attention_backward_simt for Half and BFloat16 operands with
// D = Dv = 64 or 128. Same parameters (AttentionBackwardParams<T>), same grid role and the same prepare and dq launches
// around it (attention_backward.cu): one CTA of 4 warps per key block of kBn = 64 keys, each warp owning 16 keys,
// their dK and dV in registers for the whole kernel; a loop over the query heads of the group and over query blocks of
// kBm rows, with the five products of FlashAttention-2's backward per block:
//   Sᵀ  = K Qᵀ      (per warp: its 16 keys × kBm queries)         dPᵀ = V dOᵀ
//   P   = exp(S − lse), dS = P ∘ (dP − delta), G = dS · (1 − tanh²) · scale  elementwise on the accumulators,
//         with every forward option (key range, mask, bias, softcap) and the bias gradient by fp32 atomics
//   dV += Pᵀ dO     dK += Gᵀ Q   (Pᵀ and Gᵀ are the accumulators, repacked as A operands: no shared-memory trip)
//   dQ += G K       (G through shared memory, rows split over the warps; fp32 atomics into dq_accum, as the SIMT
//                    kernel does and for the same reason: attention_backward.cu)
// P and G enter their products rounded to T, as in FlashAttention-2; everything else is fp32.
//
// Operand tiles are staged in shared memory as T with rows padded by 8 elements, read as the fragments need them:
// 32-bit loads where a fragment's pair is two adjacent elements of a row, two 16-bit loads where it is a column pair
// (the B operands of dV, dK and dQ). Staging is element by element through the operands' strides, so no alignment is
// required of them. Other head dims and float operands stay on attention_backward_simt: a head dim not a multiple of
// 16 needs masked k-steps, a larger one more registers than 4 warps hold for dK and dV (FlashAttention-2 uses 8 warps
// and smaller key blocks there), and float operands would need TF32 rounding, which the backward does not promise.
//
// Native/emulation/attention_backward_emulation.cpp runs this file on the CPU against the float64 backward.

#include "attention_backward_common.cuh"
#include "kernel_report.cuh"
#include "warp_matrix.cuh"

namespace attention {
namespace backward_mma {

constexpr int kThreads = 128;  // 4 warps
constexpr int kBn = 64;        // keys per CTA: 16 per warp

// Query rows per loop iteration: 64 for D = 64; 16 for D = 128, where dK and dV already take 128 accumulators a lane
// (with 32, sm_90 spills 16 bytes).
template <int kD> struct Tile;
template <> struct Tile<64> { static constexpr int kBm = 64; };
template <> struct Tile<128> { static constexpr int kBm = 16; };

// Bytes of dynamic shared memory: K and V tiles [kBn][kD + 8], Q and dO tiles [kBm][kD + 8], G [kBm][kBn + 8] in T,
// then lse and delta [kBm] in float.
template <int kD>
__host__ __device__ constexpr int shared_bytes() {
  return 2 * ((2 * kBn + 2 * Tile<kD>::kBm) * (kD + 8) + Tile<kD>::kBm * (kBn + 8)) + 2 * 4 * Tile<kD>::kBm;
}

// Two T elements of shared memory as one operand register, `lo` in bits 0-15.
template <typename T>
__device__ __forceinline__ uint32_t pair_of(const T* lo, const T* hi) {
  const uint32_t l = *reinterpret_cast<const unsigned short*>(lo);
  const uint32_t h = *reinterpret_cast<const unsigned short*>(hi);
  return l | (h << 16);
}

// Two adjacent T elements (even index) as one operand register.
template <typename T>
__device__ __forceinline__ uint32_t adjacent(const T* p) {
  return *reinterpret_cast<const uint32_t*>(p);
}

}  // namespace backward_mma

// In namespace attention, not backward_mma: its `extern __shared__ float shared[]` is the family's one array
// (attention::shared), which the emulated device points every SIMT-launched entry at.
template <typename T, int kD>
__device__ __forceinline__ void attention_backward_mma(const AttentionBackwardParams<T>& params) {
  using namespace backward_mma;
  constexpr int kBm = Tile<kD>::kBm;
  constexpr int kStride = kD + 8;   // row stride of the K, V, Q, dO tiles, in elements
  constexpr int kGStride = kBn + 8; // row stride of G
  constexpr int kQTiles = kBm / 8;  // n8 tiles of Sᵀ and dPᵀ (queries)
  constexpr int kDTiles = kD / 8;   // n8 tiles of dK, dV and dQ (head dim)
  const int t = static_cast<int>(threadIdx.x);
  const int warp = t / kWarpSize;
  const int lane = t % kWarpSize;
  const int g = lane / 4;  // the fragment's row group
  const int c = lane % 4;  // the fragment's column pair
  const int n0 = static_cast<int>(blockIdx.x) * kBn;
  const int kv_head = static_cast<int>(blockIdx.y);
  const int b = static_cast<int>(blockIdx.z);
  if (n0 >= params.k_len || kv_head >= params.kv_heads || b >= params.batch) {
    return;  // the whole block leaves together
  }

  extern __shared__ float shared[];
  T* k_s = reinterpret_cast<T*>(shared);
  T* v_s = k_s + kBn * kStride;
  T* q_s = v_s + kBn * kStride;
  T* do_s = q_s + kBm * kStride;
  T* g_s = do_s + kBm * kStride;
  float* lse_s = reinterpret_cast<float*>(g_s + kBm * kGStride);
  float* delta_s = lse_s + kBm;

  const int key_length = key_length_of(params.key_lengths, b, params.k_len);
  const int keys = min(kBn, params.k_len - n0);
  const T* k_head = params.k + b * params.k_stride_b + kv_head * params.k_stride_h;
  const T* v_head = params.v + b * params.v_stride_b + kv_head * params.v_stride_h;
  const T zero = from_float<T>(0.0f);
  for (int e = t; e < kBn * kD; e += kThreads) {
    const int j = e / kD, x = e % kD;
    const long long row = static_cast<long long>(n0 + j);
    k_s[j * kStride + x] = j < keys ? k_head[row * params.k_stride_s + x] : zero;
    v_s[j * kStride + x] = j < keys ? v_head[row * params.v_stride_s + x] : zero;
  }

  float dk[kDTiles][4] = {};
  float dv[kDTiles][4] = {};
  const int key_row = 16 * warp + g;  // this lane's key rows in the block: key_row and key_row + 8

  const int group = params.q_heads / params.kv_heads;
  for (int hg = 0; hg < group; ++hg) {
    const int h = kv_head * group + hg;
    const BackwardHead<T> head = backward_head(params, b, h);
    for (int m0 = 0; m0 < params.q_len; m0 += kBm) {
      if (!query_block_sees_keys(params, m0, kBm, key_length, n0, n0 + keys)) {
        continue;
      }

      __syncthreads();  // the previous block's readers of q_s, do_s, g_s are done
      const int rows = min(kBm, params.q_len - m0);
      for (int e = t; e < kBm * kD; e += kThreads) {
        const int r = e / kD, x = e % kD;
        const long long row = static_cast<long long>(m0 + r);
        q_s[r * kStride + x] = r < rows ? head.q[row * params.q_stride_s + x] : zero;
        do_s[r * kStride + x] = r < rows ? head.d_o[row * params.do_stride_s + x] : zero;
      }
      if (t < kBm) {
        const long long row = backward_row(b, h, m0 + t, params.q_heads, params.q_len);
        lse_s[t] = t < rows ? params.lse[row] : -INFINITY;
        delta_s[t] = t < rows ? params.delta[row] : 0.0f;
      }
      __syncthreads();

      // Sᵀ = K Qᵀ and dPᵀ = V dOᵀ for this warp's 16 keys.
      float s[kQTiles][4] = {};
      float dp[kQTiles][4] = {};
      #pragma unroll
      for (int kk = 0; kk < kD; kk += 16) {
        const uint32_t ka[4] = {adjacent(&k_s[key_row * kStride + kk + 2 * c]),
                                adjacent(&k_s[(key_row + 8) * kStride + kk + 2 * c]),
                                adjacent(&k_s[key_row * kStride + kk + 8 + 2 * c]),
                                adjacent(&k_s[(key_row + 8) * kStride + kk + 8 + 2 * c])};
        const uint32_t va[4] = {adjacent(&v_s[key_row * kStride + kk + 2 * c]),
                                adjacent(&v_s[(key_row + 8) * kStride + kk + 2 * c]),
                                adjacent(&v_s[key_row * kStride + kk + 8 + 2 * c]),
                                adjacent(&v_s[(key_row + 8) * kStride + kk + 8 + 2 * c])};
        #pragma unroll
        for (int nt = 0; nt < kQTiles; ++nt) {
          const int qr = (nt * 8 + g) * kStride + kk + 2 * c;
          const uint32_t qb[2] = {adjacent(&q_s[qr]), adjacent(&q_s[qr + 8])};
          const uint32_t dob[2] = {adjacent(&do_s[qr]), adjacent(&do_s[qr + 8])};
          wm::mma_16816<T>(s[nt], ka, qb);
          wm::mma_16816<T>(dp[nt], va, dob);
        }
      }

      // P into s, G into dp, element by element: accumulator r of tile nt is key key_row (+8 for r >= 2) and query
      // nt·8 + 2c (+1 for odd r).
      #pragma unroll
      for (int nt = 0; nt < kQTiles; ++nt) {
        #pragma unroll
        for (int r = 0; r < 4; ++r) {
          const int jr = key_row + (r >= 2 ? 8 : 0);
          const int mr = nt * 8 + 2 * c + (r & 1);
          const int key = n0 + jr, i = m0 + mr;
          float p = 0.0f, gr = 0.0f;
          const float lse = lse_s[mr];
          const long long at = static_cast<long long>(i) * params.k_len + key;
          if (jr < keys && mr < rows && lse != -INFINITY && pair_visible(params, head, i, key, key_length, at)) {
            pair_gradient(params, head, at, s[nt][r], dp[nt][r], lse, delta_s[mr], p, gr);
          }
          s[nt][r] = p;
          dp[nt][r] = gr;
        }
        // G to shared memory as [query][key], for dQ.
        const int mr = nt * 8 + 2 * c;
        g_s[mr * kGStride + key_row] = from_float<T>(dp[nt][0]);
        g_s[(mr + 1) * kGStride + key_row] = from_float<T>(dp[nt][1]);
        g_s[mr * kGStride + key_row + 8] = from_float<T>(dp[nt][2]);
        g_s[(mr + 1) * kGStride + key_row + 8] = from_float<T>(dp[nt][3]);
      }

      // dV += Pᵀ dO and dK += Gᵀ Q: two accumulator tiles of queries make one A operand of 16 queries.
      #pragma unroll
      for (int ks = 0; ks < kBm / 16; ++ks) {
        const uint32_t pa[4] = {wm::pack_pair<T>(s[2 * ks][0], s[2 * ks][1]), wm::pack_pair<T>(s[2 * ks][2], s[2 * ks][3]),
                                wm::pack_pair<T>(s[2 * ks + 1][0], s[2 * ks + 1][1]),
                                wm::pack_pair<T>(s[2 * ks + 1][2], s[2 * ks + 1][3])};
        const uint32_t ga[4] = {wm::pack_pair<T>(dp[2 * ks][0], dp[2 * ks][1]),
                                wm::pack_pair<T>(dp[2 * ks][2], dp[2 * ks][3]),
                                wm::pack_pair<T>(dp[2 * ks + 1][0], dp[2 * ks + 1][1]),
                                wm::pack_pair<T>(dp[2 * ks + 1][2], dp[2 * ks + 1][3])};
        const int m = 16 * ks + 2 * c;  // the B operand's k rows: m, m + 1 and m + 8, m + 9
        #pragma unroll
        for (int ct = 0; ct < kDTiles; ++ct) {
          const int col = ct * 8 + g;
          const uint32_t dob[2] = {pair_of(&do_s[m * kStride + col], &do_s[(m + 1) * kStride + col]),
                                   pair_of(&do_s[(m + 8) * kStride + col], &do_s[(m + 9) * kStride + col])};
          const uint32_t qb[2] = {pair_of(&q_s[m * kStride + col], &q_s[(m + 1) * kStride + col]),
                                  pair_of(&q_s[(m + 8) * kStride + col], &q_s[(m + 9) * kStride + col])};
          wm::mma_16816<T>(dv[ct], pa, dob);
          wm::mma_16816<T>(dk[ct], ga, qb);
        }
      }
      __syncthreads();  // every warp's G is in g_s

      // dQ += G K: the (16-row tile, 8-column tile) pairs of this query block spread over the warps.
      for (int item = warp; item < (kBm / 16) * kDTiles; item += kThreads / kWarpSize) {
        const int mt = item / kDTiles, ct = item % kDTiles;
        float acc[4] = {};
        #pragma unroll
        for (int ks = 0; ks < kBn / 16; ++ks) {
          const int gr = (16 * mt + g) * kGStride + 16 * ks + 2 * c;
          const uint32_t ga[4] = {adjacent(&g_s[gr]), adjacent(&g_s[gr + 8 * kGStride]), adjacent(&g_s[gr + 8]),
                                  adjacent(&g_s[gr + 8 * kGStride + 8])};
          const int n = 16 * ks + 2 * c, col = ct * 8 + g;
          const uint32_t kb[2] = {pair_of(&k_s[n * kStride + col], &k_s[(n + 1) * kStride + col]),
                                  pair_of(&k_s[(n + 8) * kStride + col], &k_s[(n + 9) * kStride + col])};
          wm::mma_16816<T>(acc, ga, kb);
        }
        #pragma unroll
        for (int r = 0; r < 4; ++r) {
          const int mr = 16 * mt + g + (r >= 2 ? 8 : 0);
          const int x = ct * 8 + 2 * c + (r & 1);
          if (mr < rows && acc[r] != 0.0f) {
            atomicAdd(&params.dq_accum[backward_row(b, h, m0 + mr, params.q_heads, params.q_len) * kD + x], acc[r]);
          }
        }
      }
    }
  }

  // Each key of the block belongs to this CTA alone: dK and dV are stored, not added.
  T* dk_head = params.dk + b * params.dk_stride_b + kv_head * params.dk_stride_h;
  T* dv_head = params.dv + b * params.dv_stride_b + kv_head * params.dv_stride_h;
  #pragma unroll
  for (int ct = 0; ct < kDTiles; ++ct) {
    #pragma unroll
    for (int r = 0; r < 4; ++r) {
      const int jr = key_row + (r >= 2 ? 8 : 0);
      const int x = ct * 8 + 2 * c + (r & 1);
      if (jr < keys) {
        dk_head[static_cast<long long>(n0 + jr) * params.dk_stride_s + x] = from_float<T>(dk[ct][r]);
        dv_head[static_cast<long long>(n0 + jr) * params.dv_stride_s + x] = from_float<T>(dv[ct][r]);
      }
    }
  }
}

}  // namespace attention

// The entry points, one per head dim and element type, each taking the backward's parameter struct:
// ATTENTION_BACKWARD_MMA_ENTRY(64, f16, __half) defines attention_backward_mma_d64_f16. Block 128 (4 warps × 16 keys),
// grid (⌈Lk/64⌉, Hkv, B), dynamic shared memory backward_mma::shared_bytes<D>().
// sass-check: attention_backward_mma_d64_f16 HMMA
// sass-check: attention_backward_mma_d128_bf16 HMMA
// kernel-target: attention_backward_mma_d64_f16 spills==0
// kernel-target: attention_backward_mma_d64_bf16 spills==0
// kernel-target: attention_backward_mma_d128_f16 spills==0
// kernel-target: attention_backward_mma_d128_bf16 spills==0
#define ATTENTION_BACKWARD_MMA_ENTRY(d, dtype, T)                                                                  \
  extern "C" __global__ void __launch_bounds__(attention::backward_mma::kThreads)                                  \
      attention_backward_mma_d##d##_##dtype(const __grid_constant__ attention::AttentionBackwardParams<T> params) { \
    KERNEL_REPORT_LAUNCH(attention::backward_mma::kThreads, attention::backward_mma::shared_bytes<d>());            \
    attention::attention_backward_mma<T, d>(params);                                                               \
  }

ATTENTION_BACKWARD_MMA_ENTRY(64, f16, __half)
ATTENTION_BACKWARD_MMA_ENTRY(64, bf16, __nv_bfloat16)
ATTENTION_BACKWARD_MMA_ENTRY(128, f16, __half)
ATTENTION_BACKWARD_MMA_ENTRY(128, bf16, __nv_bfloat16)

#undef ATTENTION_BACKWARD_MMA_ENTRY
