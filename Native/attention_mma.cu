// attention_mma_d<bucket>_{f16,bf16}: the mma.sync fused attention forward kernel, FlashAttention-2 class
// (contract: Native/README.md; body: attention_mma_kernel.cuh; tiles and shared-memory layout: attention_mma_tiles.cuh;
// instructions: warp_matrix.cuh).
//
// Each CTA owns kBlockM query rows of one (batch, head) and walks the key blocks its rows can see, kBlockN keys at a
// time: Q, K, V tiles staged in swizzled shared memory by 16-byte cp.async, S = Q·Kᵀ and O += P·V on mma.sync
// m16n8k16 with fp32 accumulators, the online softmax in base 2 in registers. Semantics are attention_simt's (every
// option but the probabilities output), with fp16/bf16 rounding of P before P·V.
//
// One entry point per head-dim bucket: the bucket is the tile width, and both D and Dv (each <= bucket) are padded
// up to it with zeros in shared memory. The host picks the smallest bucket >= max(D, Dv).
//
// Tile choices, FlashAttention-2's proportions (csrc/flash_attn/src/flash_fwd_launch_template.h): 4 warps of 2
// 16-row slabs each where the accumulators fit, so that every K and V fragment a warp loads feeds both slabs. Nothing
// could be timed where these were chosen (no GPU): each won on the static metrics of `./build.sh kernel-report`
// (ptxas -v and SASS of the committed PTX, sm_80 / sm_90), with these targets: no spills, at least 2 CTAs (8 warps)
// per SM on an H100/H200, and in the key loop at most 0.35 ldmatrix per MMA (FlashAttention-2: about 0.31). The
// kernel-target lines below hold the targets in ./build.sh test. Registers are sm_80 / sm_90; CTAs per SM are on an
// H100/H200 (65536 registers, 228 KiB shared memory per SM).

#include "attention_mma_kernel.cuh"

namespace attention {
namespace mma {
// d32: 128×64, 4 warps, 2 slabs: 160 / 159 registers, 24 KiB, 3 CTAs (12 warps), 0.31 LDSM per MMA. FA2's
// 128×128 also fits (238 / 243 registers, 0.28) but leaves 2 CTAs; worth timing against this one.
using TileD32 = Tile<32, 128, 64, 4>;
// d64: FA2's causal 128×64, 4 warps, 2 slabs: 218 registers, 48 KiB, 2 CTAs, 0.31. Its non-causal 128×128 fits at
// 255 / 254 registers (0.28, 2 CTAs), with no registers to spare for a driver JIT that allocates differently.
using TileD64 = Tile<64, 128, 64, 4>;
// d96, d128: FA2's 128×64, 4 warps, 2 slabs: 255 / 252 and 255 / 255 registers, 72 and 96 KiB, 2 CTAs, 0.31 LDSM
// per MMA — where 8 warps of one slab (168 / 174 registers, one CTA) load every K and V fragment for one MMA pair:
// 0.56. It fits because the key loop keeps few values besides the 192 accumulators (one lane offset per operand,
// loads recomputed per block: attention_mma_tiles.cuh, attention_mma_kernel.cuh). At d128 it fits with no register
// to spare; 128×48 (0.33 LDSM per MMA) compiles without spills down to a 232-register cap, the one to fall back on if
// a driver's JIT spills this one.
using TileD96 = Tile<96, 128, 64, 4>;
using TileD128 = Tile<128, 128, 64, 4>;
// d160, d192: FA2's A100 tile (128×64, 8 warps, one slab each: 2 slabs would be 224-256 accumulators): 176 / 174 and
// 211 registers, 120 and 144 KiB, one CTA of 8 warps, 0.56. Single-buffered 64×64 with 4 warps reaches no more
// warps per SM (d160: 175 / 226 registers, 2 CTAs of 4) and loads K and V twice as often per query row.
using TileD160 = Tile<160, 128, 64, 8>;
using TileD192 = Tile<192, 128, 64, 8>;
// d256: FA2's H100 tile (64×64, 4 warps, one slab each), K and V single-buffered: 96 KiB and 244 registers, 2 CTAs
// per SM, two barriers per key block. Double-buffered it needed 160 KiB: one CTA.
using TileD256 = Tile<256, 64, 64, 4, 1>;
}  // namespace mma
}  // namespace attention

// Entry points, one per head-dim bucket and element type, each taking the family's parameter struct
// (Native/README.md). Launch: grid (ceil(q_len / kBlockM), q_heads, batch), block (32 · kWarps), dynamic shared
// memory Tile::kSharedBytes = 2 · (kBlockM + 2 · kStages · kBlockN) · bucket bytes.
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
// kernel-target: attention_mma_d64_f16 ctas>=2 ldsm/hmma<=0.35
// kernel-target: attention_mma_d64_bf16 ctas>=2 ldsm/hmma<=0.35
// kernel-target: attention_mma_d128_f16 ctas>=2 ldsm/hmma<=0.35
// kernel-target: attention_mma_d128_bf16 ctas>=2 ldsm/hmma<=0.35
// kernel-target: attention_mma_d256_f16 ctas>=2
// kernel-target: attention_mma_d256_bf16 ctas>=2
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
