// The sm_90a instructions of the Hopper attention kernel besides wgmma.mma_async (hopper_wgmma_ops.cuh): mbarriers,
// TMA tensor loads, the async-proxy fences, wgmma's fence / commit / wait, named barriers, setmaxnreg and the
// shared-memory matrix descriptors. Each wrapper is one PTX instruction (PTX ISA 8.0+), named after it.
#pragma once

#include <cstdint>

namespace attention {
namespace hopper {

// A CUtensorMap (cuda.h): 128 opaque bytes encoded on the host by cuTensorMapEncodeTiled, 64-byte aligned, read by
// cp.async.bulk.tensor from the kernel's parameter space (a __grid_constant__ parameter).
struct alignas(64) TensorMap {
  unsigned long long opaque[16];
};

__device__ __forceinline__ std::uint32_t shared_address(const void* p) {
  return static_cast<std::uint32_t>(__cvta_generic_to_shared(p));
}

// --- mbarrier (PTX ISA 9.7.13.15) -----------------------------------------------------------------------------------
__device__ __forceinline__ void mbarrier_init(std::uint32_t bar, unsigned arrivals) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(bar), "r"(arrivals) : "memory");
}

// Makes the initialised barriers visible to the async proxy (TMA's complete_tx) and the other threads.
__device__ __forceinline__ void fence_mbarrier_init() {
  asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
}

__device__ __forceinline__ void mbarrier_arrive(std::uint32_t bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" ::"r"(bar) : "memory");
}

// One arrival that also expects `bytes` of transactions (the TMA copies that complete_tx on this barrier).
__device__ __forceinline__ void mbarrier_arrive_expect_tx(std::uint32_t bar, unsigned bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(bar), "r"(bytes) : "memory");
}

// Waits until the phase of parity `parity` has completed (try_wait suspends for a hardware time limit per try).
__device__ __forceinline__ void mbarrier_wait(std::uint32_t bar, unsigned parity) {
  asm volatile(
      "{\n.reg .pred done;\n"
      "wait_%=:\n"
      "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
      "@!done bra wait_%=;\n}\n" ::"r"(bar),
      "r"(parity)
      : "memory");
}

// --- TMA (cp.async.bulk.tensor, PTX ISA 9.7.9.25) -------------------------------------------------------------------
// One box of a 4D tensor map at coordinates (c0 innermost .. c3) into shared memory at `dst`; its bytes complete_tx
// on `bar`. Elements outside the tensor are filled with zeros (and still count as transferred bytes).
__device__ __forceinline__ void tma_load_4d(std::uint32_t dst, const TensorMap* map, std::uint32_t bar, int c0, int c1,
                                            int c2, int c3) {
  asm volatile(
      "cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3, %4, %5}], "
      "[%6];" ::"r"(dst),
      "l"(reinterpret_cast<std::uint64_t>(map)), "r"(c0), "r"(c1), "r"(c2), "r"(c3), "r"(bar)
      : "memory");
}

__device__ __forceinline__ void prefetch_tensor_map(const TensorMap* map) {
  asm volatile("prefetch.tensormap [%0];" ::"l"(reinterpret_cast<std::uint64_t>(map)) : "memory");
}

// Orders this thread's generic-proxy shared-memory writes before later async-proxy accesses (wgmma, TMA) to them.
__device__ __forceinline__ void fence_proxy_async_shared() {
  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
}

// --- wgmma ordering (PTX ISA 9.7.15.6) ------------------------------------------------------------------------------
// Before the first wgmma.mma_async that reads registers (accumulators, A fragments) other instructions wrote.
__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit_group() { asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory"); }
template <int Pending>
__device__ __forceinline__ void wgmma_wait_group() {
  asm volatile("wgmma.wait_group.sync.aligned %0;" ::"n"(Pending) : "memory");
}

// Keeps the compiler from moving reads or writes of an accumulator register across a wgmma wait or fence.
__device__ __forceinline__ void register_fence(float& r) { asm volatile("" : "+f"(r)::"memory"); }
__device__ __forceinline__ void register_fence(std::uint32_t& r) { asm volatile("" : "+r"(r)::"memory"); }

// --- named barriers, register reallocation ---------------------------------------------------------------------------
__device__ __forceinline__ void named_barrier_sync(int id, int threads) {
  asm volatile("bar.sync %0, %1;" ::"r"(id), "r"(threads) : "memory");
}
__device__ __forceinline__ void named_barrier_arrive(int id, int threads) {
  asm volatile("bar.arrive %0, %1;" ::"r"(id), "r"(threads) : "memory");
}

template <int Registers>
__device__ __forceinline__ void setmaxnreg_inc() {
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;" ::"n"(Registers));
}
template <int Registers>
__device__ __forceinline__ void setmaxnreg_dec() {
  asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;" ::"n"(Registers));
}

// --- shared-memory matrix descriptors (PTX ISA 9.7.15.5.1.2) ---------------------------------------------------------
// Bits 0-13 start address >> 4, 16-29 leading-dimension byte offset >> 4, 32-45 stride-dimension byte offset >> 4,
// 49-51 base offset (0: every swizzle atom starts 1024-byte aligned), 62-63 swizzle (1 = 128-byte).
// With the 128-byte swizzle a matrix is stored as atoms of 8 rows × 128 bytes (1024 bytes, the XOR pattern's period):
//   K-major (Q, K: a row's 64 elements along the reduction dimension): SBO = 1024, the step between 8-row groups;
//     LBO is unused (the 16-element k step lies inside the 128-byte row; the kernel moves along k by adding 32 bytes
//     to the start address, and to the next 64-column block by the block's size).
//   N-major (V for P·V: a row's 64 elements along N, rows along the reduction dimension): SBO = 1024, the step between
//     8-row groups along the reduction dimension; LBO = the step between 64-element blocks along N.
constexpr std::uint64_t kSwizzle128 = 1;

__device__ __forceinline__ std::uint64_t matrix_descriptor(std::uint32_t address, std::uint32_t leading_bytes,
                                                           std::uint32_t stride_bytes) {
  return static_cast<std::uint64_t>((address & 0x3ffff) >> 4) |
         (static_cast<std::uint64_t>((leading_bytes >> 4) & 0x3fff) << 16) |
         (static_cast<std::uint64_t>((stride_bytes >> 4) & 0x3fff) << 32) | (kSwizzle128 << 62);
}

}  // namespace hopper
}  // namespace attention
