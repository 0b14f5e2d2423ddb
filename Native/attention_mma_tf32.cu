// attention_mma_d<bucket>_f32: attention_mma (Native/attention_mma.cu) for fp32 operands on TF32 tensor cores —
// mma.sync.m16n8k8 .tf32 with fp32 accumulators, Q, K, V and P rounded to TF32 (cvt.rna, 10-bit mantissa) as they
// enter an MMA. The managed side runs it only when CudaBackendOptions.AllowTensorFloat32 is set: <= 5e-4 relative
// error against float64 for scores of ordinary size instead of the SIMT kernel's 1e-5. Body: attention_mma_kernel.cuh
// (shared with f16/bf16); tiles, loads and GEMMs: attention_mma_tf32.cuh. A module of its own, so the f16/bf16
// users never JIT it.
//
// Tile choices. fp32 tiles are twice attention_mma's bytes (plus 4 words of padding per row): shared memory is
// 4 · (M + 4N) · (bucket + 4) bytes (Q, two stages of K and V), and A100 allows 163 KiB (166 912 bytes) per block, so
// from d96 up shared memory, not registers, decides the tile and leaves one CTA per SM. FlashAttention-2's 2-slab
// proportions (4 warps × 32 rows) are taken at d64 only: a TF32 fragment is read with 32-bit LDS, not ldmatrix
// (LDS/HMMA in ./build.sh kernel-report), and with one CTA per SM 8 warps of one slab keep twice the warps resident
// of 4 warps of two. Where a tile fits the budget it is kept, else N, then M, halves. Registers sm_80 / sm_90
// (kernel-report; 0 spills), CTAs per SM on an H100/H200:
//   d32: 128×64, 8 warps, 54 KiB, 97 / 80 registers, 2 / 3 CTAs. 4 warps of 2 slabs fit too (160 / 162 registers,
//        12 warps per SM), reading each K fragment for two MMAs: worth timing.
//   d64: 128×64, 4 warps, 102 KiB, 197 / 196 registers, 2 CTAs — attention_mma's 128×64, 4 warps.
//   d96: 128×64, 8 warps, 150 KiB, 128 registers, 1 CTA.
//   d128: 128×32, 8 warps, 132 KiB — 128×64 would need 198 KiB: N halved to 32, 8 warps.
//   d160: 64×32, 4 warps, 123 KiB — 128×32 would need 164 KiB, just over: M halved to 64, 4 warps.
//   d192: 64×32, 4 warps, 147 KiB — 64×32, 4 warps, as d160.
//   d256: 64×16, 4 warps, 130 KiB — 64×32 would need 195 KiB: N halved again to 16, 4 warps (one slab each: 128
//        O accumulators per lane leave no room for 2).
// None of this could be timed where it was written (no GPU).

#include "attention_mma_kernel.cuh"

namespace attention {
namespace mma {
using TileTf32D32 = TileTf32<32, 128, 64, 8>;
using TileTf32D64 = TileTf32<64, 128, 64, 4>;
using TileTf32D96 = TileTf32<96, 128, 64, 8>;
using TileTf32D128 = TileTf32<128, 128, 32, 8>;
using TileTf32D160 = TileTf32<160, 64, 32, 4>;
using TileTf32D192 = TileTf32<192, 64, 32, 4>;
using TileTf32D256 = TileTf32<256, 64, 16, 4>;
}  // namespace mma
}  // namespace attention

// Entry points, one per head-dim bucket, taking attention_mma's parameter struct with float operands, so that with
// the f16/bf16 kernels of each bucket they form one dtype family. Launch: grid (ceil(q_len / kBlockM), q_heads,
// batch), block (32 · kWarps), dynamic shared memory TileTf32::kSharedBytes. The output must be 8-byte aligned (float
// pairs).
// sass-check: attention_mma_d32_f32 HMMA LDGSTS
// sass-check: attention_mma_d64_f32 HMMA LDGSTS
// sass-check: attention_mma_d96_f32 HMMA LDGSTS
// sass-check: attention_mma_d128_f32 HMMA LDGSTS
// sass-check: attention_mma_d160_f32 HMMA LDGSTS
// sass-check: attention_mma_d192_f32 HMMA LDGSTS
// sass-check: attention_mma_d256_f32 HMMA LDGSTS
ATTENTION_MMA_ENTRY(32, f32, float, attention::mma::TileTf32D32)
ATTENTION_MMA_ENTRY(64, f32, float, attention::mma::TileTf32D64)
ATTENTION_MMA_ENTRY(96, f32, float, attention::mma::TileTf32D96)
ATTENTION_MMA_ENTRY(128, f32, float, attention::mma::TileTf32D128)
ATTENTION_MMA_ENTRY(160, f32, float, attention::mma::TileTf32D160)
ATTENTION_MMA_ENTRY(192, f32, float, attention::mma::TileTf32D192)
ATTENTION_MMA_ENTRY(256, f32, float, attention::mma::TileTf32D256)
