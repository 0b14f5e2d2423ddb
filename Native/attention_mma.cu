// attention_mma_d<bucket>_{f16,bf16}: the mma.sync fused attention forward kernel, FlashAttention-2 class
// (contract: Native/README.md; body: attention_mma_kernel.cuh; tiles and shared-memory layout: attention_mma_tiles.cuh;
// instructions: warp_matrix.cuh).
//
// Each CTA owns kBlockM query rows of one (batch, head) and walks the key blocks its rows can see, kBlockN keys at a
// time: Q, K, V tiles staged in swizzled shared memory by 16-byte cp.async (K/V double-buffered), S = Q·Kᵀ and
// O += P·V on mma.sync m16n8k16 with fp32 accumulators, the online softmax in base 2 in registers. Semantics are
// attention_simt's (every option but the probabilities output), with fp16/bf16 rounding of P before P·V.
//
// One entry point per head-dim bucket: the bucket is the tile width, and both D and Dv (each <= bucket) are padded
// up to it with zeros in shared memory. The host picks the smallest bucket >= max(D, Dv).
//
// Tile choices. Nothing could be timed where these were written (no GPU): each is FlashAttention-2's
// (csrc/flash_attn/src/flash_fwd_launch_template.h) for that head dim on A100/H100, kept where ptxas -v showed it
// fits (0 spills, sm_80 and sm_90; ./build.sh test prints registers and spills) and the double-buffered shared
// memory (2·(M + 4N)·D bytes) fits A100's 163 KiB per block.

#include "attention_mma_kernel.cuh"

namespace attention {
namespace mma {
// Registers are per sm_80 / sm_90 ptxas -v at the time of writing; "overhead" is what the kernel holds besides the
// S and O accumulators (fragment offsets, row ranges, pointers, softmax state): about 70-90 registers.
// d32: FA2's hdim32 tile (128×128, 4 warps, 2 slabs per warp: S 128 + O 32 accumulators) sat at 255 registers and
// spilled 16-24 bytes; 128×64 with the same 2 slabs per warp (the d64 tile) fits.
using TileD32 = Tile<32, 128, 64, 4>;
// d64: FA2's causal hdim64 tile (128×64, 4 warps, 2 slabs): 235 registers. Its non-causal 128×128 spilled here
// (2 slabs: S 128 + O 64; 1 slab with 8 warps: 168 registers and still a few spill bytes).
using TileD64 = Tile<64, 128, 64, 4>;
// d96, d128: FA2's 128×64 with 4 warps (2 slabs per warp, which halves the K/V ldmatrix traffic per MMA) spilled
// 20 / 144 bytes here; 8 warps of one slab each fit (162 / 168 registers). Worth timing against 4 warps × 64 rows.
using TileD96 = Tile<96, 128, 64, 8>;
using TileD128 = Tile<128, 128, 64, 8>;
// d160, d192: FA2's A100 tile (128×64, 8 warps, one slab each): ~205 / ~225 registers.
using TileD160 = Tile<160, 128, 64, 8>;
using TileD192 = Tile<192, 128, 64, 8>;
// d256: FA2's H100 tile (64×64, 4 warps, one slab each): 255 registers, 0 spills. Double-buffered K/V make its shared
// memory 160 KiB, inside A100's 163 KiB per block (H100/H200: 227 KiB).
using TileD256 = Tile<256, 64, 64, 4>;
}  // namespace mma
}  // namespace attention

// Entry points, one per head-dim bucket and element type, each taking the family's parameter struct
// (Native/README.md). Launch: grid (ceil(q_len / kBlockM), q_heads, batch), block (32 · kWarps), dynamic shared
// memory 2 · (kBlockM + 4 · kBlockN) · bucket bytes.
// sass-check: attention_mma_d32_f16 HMMA LDSM LDGSTS
// sass-check: attention_mma_d32_bf16 HMMA LDSM LDGSTS
// sass-check: attention_mma_d64_f16 HMMA LDSM LDGSTS
// sass-check: attention_mma_d64_bf16 HMMA LDSM LDGSTS
// sass-check: attention_mma_d96_f16 HMMA LDSM LDGSTS
// sass-check: attention_mma_d96_bf16 HMMA LDSM LDGSTS
// sass-check: attention_mma_d128_f16 HMMA LDSM LDGSTS
// sass-check: attention_mma_d128_bf16 HMMA LDSM LDGSTS
// sass-check: attention_mma_d160_f16 HMMA LDSM LDGSTS
// sass-check: attention_mma_d160_bf16 HMMA LDSM LDGSTS
// sass-check: attention_mma_d192_f16 HMMA LDSM LDGSTS
// sass-check: attention_mma_d192_bf16 HMMA LDSM LDGSTS
// sass-check: attention_mma_d256_f16 HMMA LDSM LDGSTS
// sass-check: attention_mma_d256_bf16 HMMA LDSM LDGSTS
ATTENTION_MMA_ENTRY(32, f16, __half, attention::mma::TileD32)
ATTENTION_MMA_ENTRY(32, bf16, __nv_bfloat16, attention::mma::TileD32)
ATTENTION_MMA_ENTRY(64, f16, __half, attention::mma::TileD64)
ATTENTION_MMA_ENTRY(64, bf16, __nv_bfloat16, attention::mma::TileD64)
ATTENTION_MMA_ENTRY(96, f16, __half, attention::mma::TileD96)
ATTENTION_MMA_ENTRY(96, bf16, __nv_bfloat16, attention::mma::TileD96)
ATTENTION_MMA_ENTRY(128, f16, __half, attention::mma::TileD128)
ATTENTION_MMA_ENTRY(128, bf16, __nv_bfloat16, attention::mma::TileD128)
ATTENTION_MMA_ENTRY(160, f16, __half, attention::mma::TileD160)
ATTENTION_MMA_ENTRY(160, bf16, __nv_bfloat16, attention::mma::TileD160)
ATTENTION_MMA_ENTRY(192, f16, __half, attention::mma::TileD192)
ATTENTION_MMA_ENTRY(192, bf16, __nv_bfloat16, attention::mma::TileD192)
ATTENTION_MMA_ENTRY(256, f16, __half, attention::mma::TileD256)
ATTENTION_MMA_ENTRY(256, bf16, __nv_bfloat16, attention::mma::TileD256)
