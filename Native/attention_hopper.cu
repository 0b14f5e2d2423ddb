// attention_hopper_d<bucket>_{f16,bf16}: the sm_90a (H100/H200) fused attention forward kernel, FlashAttention-3 class
// (body: attention_hopper_kernel.cuh; parameters: attention_hopper_params.cuh; instructions: hopper/). TMA brings Q,
// K and V in, a producer warpgroup and two consumer warpgroups meet at mbarriers, both GEMMs run on wgmma.mma_async
// with fp32 accumulators and the two consumers ping-pong on the tensor cores.
//
// Built by CUDA 12.4 only (`.target sm_90a`: wgmma and setmaxnreg exist on no other target): ./build.sh ptx writes
// Native/sm90a/attention_hopper.ptx and the cubin ptxas 12.4 makes of it, Native/sm90a/attention_hopper.cubin, both
// embedded. Not part of the compute_80 PTX of the other Native/*.cu.
//
// One entry point per head-dim bucket (64, 128, 256: D and Dv <= bucket, zero-padded by TMA's out-of-bounds fill).
// Tile choices, FlashAttention-3's (hopper/tile_size.h) where they fit our 2-consumer, 240-register design. Nothing
// could be timed where these were chosen (no GPU); the kernel-target lines below hold the static limits in
// ./build.sh test (ptxas 12.4 -arch=sm_90a: no spills):
//   d64:  128×128, 4 stages (16 KiB Q + 4 × 32 KiB K/V = 144 KiB): S and O take 64 + 32 accumulators, and the deep
//         ring hides TMA latency behind the short d64 GEMMs. FA3's 192×128 needs a third consumer warpgroup.
//   d128: 128×128, 2 stages (32 KiB Q + 2 × 64 KiB = 160 KiB): FA3's tile; 64 + 64 accumulators and 32 P registers.
//   d256: 128×64, 2 stages (64 KiB Q + 2 × 64 KiB = 192 KiB): O alone is 128 accumulators; FA3's 128×80 would need
//         a box of 80 rows and 224 KiB, at the opt-in limit.
// One CTA per SM in every bucket (384 threads × 168 registers at launch), as FA3.

#include "attention_hopper_kernel.cuh"

namespace attention {
namespace hopper {
using TraitsD64 = Traits<64, 128, 4>;
using TraitsD128 = Traits<128, 128, 2>;
using TraitsD256 = Traits<256, 64, 2>;
}  // namespace hopper
}  // namespace attention

// Launch: grid (ceil(q_len / 128), q_heads, batch), block 384, dynamic shared memory Traits::kSharedBytes.
// sass-check: attention_hopper_d64_f16 HGMMA UTMALDG SYNCS
// sass-check: attention_hopper_d64_bf16 HGMMA UTMALDG SYNCS
// sass-check: attention_hopper_d128_f16 HGMMA UTMALDG SYNCS
// sass-check: attention_hopper_d128_bf16 HGMMA UTMALDG SYNCS
// sass-check: attention_hopper_d256_f16 HGMMA UTMALDG SYNCS
// sass-check: attention_hopper_d256_bf16 HGMMA UTMALDG SYNCS
// kernel-target: attention_hopper_d64_f16 spills==0 ctas>=1
// kernel-target: attention_hopper_d64_bf16 spills==0 ctas>=1
// kernel-target: attention_hopper_d128_f16 spills==0 ctas>=1
// kernel-target: attention_hopper_d128_bf16 spills==0 ctas>=1
// kernel-target: attention_hopper_d256_f16 spills==0 ctas>=1
// kernel-target: attention_hopper_d256_bf16 spills==0 ctas>=1
ATTENTION_HOPPER_ENTRY(64, f16, __half, attention::hopper::TraitsD64)
ATTENTION_HOPPER_ENTRY(64, bf16, __nv_bfloat16, attention::hopper::TraitsD64)
ATTENTION_HOPPER_ENTRY(128, f16, __half, attention::hopper::TraitsD128)
ATTENTION_HOPPER_ENTRY(128, bf16, __nv_bfloat16, attention::hopper::TraitsD128)
ATTENTION_HOPPER_ENTRY(256, f16, __half, attention::hopper::TraitsD256)
ATTENTION_HOPPER_ENTRY(256, bf16, __nv_bfloat16, attention::hopper::TraitsD256)
