// Compile check of Native/hopper/hopper_ptx.cuh: one kernel that uses every wrapper, so that nvcc 12.x emits each
// instruction and ptxas -arch=sm_90a accepts it (Native/hopper/check-ptx.sh; not a kernel of the library, never
// launched). Every wgmma shape and form is instantiated for both element types.
#include "hopper_ptx.cuh"

namespace hp = attention::hopper;

template <int N, typename T>
__device__ void every_wgmma(float* out, uint64_t desc_a, uint64_t desc_b, const uint32_t (&a)[4], uint32_t scale_d) {
  float d[N / 2];
#pragma unroll
  for (int i = 0; i < N / 2; ++i) d[i] = 0.0f;
  hp::wgmma_fence();
  hp::fence_accumulators(d);
  hp::wgmma_ss<N, T>(d, desc_a, desc_b, scale_d);
  hp::wgmma_ss<N, T, hp::Major::kK, hp::Major::kMN>(d, desc_a, desc_b, 1);
  hp::wgmma_ss<N, T, hp::Major::kMN, hp::Major::kMN>(d, desc_a, desc_b, 1);
  hp::wgmma_rs<N, T>(d, a, desc_b, 1);
  hp::wgmma_rs<N, T, hp::Major::kMN>(d, a, desc_b, 1);
  hp::wgmma_commit();
  hp::wgmma_wait<1>();
  hp::wgmma_wait<0>();
  hp::fence_accumulators(d);
#pragma unroll
  for (int i = 0; i < N / 2; ++i) out[i * 128 + threadIdx.x % 128] += d[i];
}

template <typename T>
__device__ void every_shape(float* out, uint64_t desc_a, uint64_t desc_b, const uint32_t (&a)[4], uint32_t scale_d) {
  every_wgmma<64, T>(out, desc_a, desc_b, a, scale_d);
  every_wgmma<96, T>(out, desc_a, desc_b, a, scale_d);
  every_wgmma<128, T>(out, desc_a, desc_b, a, scale_d);
  every_wgmma<192, T>(out, desc_a, desc_b, a, scale_d);
  every_wgmma<256, T>(out, desc_a, desc_b, a, scale_d);
}

extern "C" __global__ void __launch_bounds__(384, 1)
    hopper_ptx_probe(const __grid_constant__ hp::TensorMap map2, const __grid_constant__ hp::TensorMap map3,
                     const __grid_constant__ hp::TensorMap map4, float* out, int coordinate) {
  extern __shared__ __align__(1024) unsigned char smem[];
  uint64_t* bar = reinterpret_cast<uint64_t*>(smem + 3 * 16384);
  const int warpgroup = threadIdx.x / 128;
  if (threadIdx.x == 0) {
    hp::mbarrier_init(&bar[0], 1);
    hp::mbarrier_init(&bar[1], 256);
    hp::fence_barrier_init();
  }
  __syncthreads();
  if (warpgroup == 0) {
    hp::setmaxnreg_dec<24>();
    if (threadIdx.x == 0) {
      hp::mbarrier_arrive_expect_tx(&bar[0], 3 * 16384);
      hp::tma_load_2d(smem, &map2, &bar[0], coordinate, 0);
      hp::tma_load_3d(smem + 16384, &map3, &bar[0], coordinate, 0, 1);
      hp::tma_load_4d(smem + 2 * 16384, &map4, &bar[0], coordinate, 0, 1, 2);
      hp::mbarrier_expect_tx(&bar[0], 0);
    }
    hp::named_barrier_arrive(1, 384);
  } else {
    hp::setmaxnreg_inc<240>();
    hp::mbarrier_wait_parity(&bar[0], 0);
    if (!hp::mbarrier_try_wait_parity(&bar[0], 0)) out[0] = -1.0f;
    const uint32_t base = hp::shared_address(smem);
    const uint64_t desc_a = hp::make_smem_descriptor(base, 16, 1024, hp::Swizzle::k128B);
    const uint64_t desc_b = hp::make_smem_descriptor(base + 16384, 16, 512, hp::Swizzle::k64B) |
                            hp::make_smem_descriptor(0, 0, 256, hp::Swizzle::k32B) |
                            hp::make_smem_descriptor(0, 128, 128, hp::Swizzle::kNone, 1);
    const uint32_t a[4] = {static_cast<uint32_t>(coordinate), 1u, 2u, 3u};
    every_shape<__half>(out, desc_a, desc_b, a, static_cast<uint32_t>(coordinate & 1));
    every_shape<__nv_bfloat16>(out, desc_a, desc_b, a, static_cast<uint32_t>(coordinate & 1));
    smem[threadIdx.x] = 0;
    hp::fence_proxy_async_shared();
    hp::named_barrier_sync(1, 384);
    if (threadIdx.x == 128) {
      hp::tma_store_2d(&map2, smem, coordinate, 0);
      hp::tma_store_3d(&map3, smem + 16384, coordinate, 0, 1);
      hp::tma_store_4d(&map4, smem + 2 * 16384, coordinate, 0, 1, 2);
      hp::tma_store_commit();
      hp::tma_store_wait_read<1>();
      hp::tma_store_wait<0>();
    }
    hp::mbarrier_arrive(&bar[1]);
  }
}
