// The Hopper (sm_90a) primitives of the warp-specialised kernels, each a small inline wrapper around one PTX
// instruction (PTX ISA 8.0+, ptxas -arch=sm_90a):
//   mbarrier: init, arrive, arrive.expect_tx, expect_tx, try_wait.parity (+ a wait loop); fence.mbarrier_init;
//   fence.proxy.async.shared::cta (generic-proxy shared-memory writes -> async-proxy reads by wgmma / TMA);
//   TMA: cp.async.bulk.tensor.{2,3,4}d global -> shared, completing tx-bytes on an mbarrier, from a tensor map, and
//   shared -> global in bulk groups (commit_group, wait_group[.read]);
//   wgmma: the shared-memory matrix descriptor, wgmma.fence / commit_group / wait_group, and
//   wgmma.mma_async m64nNk16 f32 += f16/bf16 with A and B from descriptors (SS) or A from registers (RS);
//   setmaxnreg.inc / .dec; named barriers (bar.sync / bar.arrive with an id and a thread count).
//
// With ATTENTION_EMULATION defined (Native/emulation/*.cpp) the same names come from
// emulation/hopper_emulation.hpp instead: host versions that follow the PTX ISA's definitions (descriptors and
// swizzles, the accumulator fragment layout, asynchronous completion, mbarrier phases and tx-counts) and fault on
// what the ISA leaves undefined, so the emulated kernel runs its own code paths.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

namespace attention {
namespace hopper {

// A tensor map (CUtensorMap): 128 opaque bytes, 64-byte aligned, written on the host by cuTensorMapEncodeTiled and
// passed to the kernel as a `const __grid_constant__` parameter (TMA reads it from the parameter space).
struct alignas(64) TensorMap {
  uint64_t opaque[16];
};

// The layout of a shared-memory matrix as wgmma reads it (PTX ISA "Matrix Descriptor Format", bits 62-63).
enum class Swizzle : uint32_t { kNone = 0, k128B = 1, k64B = 2, k32B = 3 };

// Which dimension of an operand is contiguous: K-major (A row-major M×K, B "column-major" K×N stored N rows of K)
// or MN-major (transposed; the imm-trans-a / imm-trans-b operand of wgmma, 16-bit types only).
enum class Major : int { kK = 0, kMN = 1 };

// The 64-bit matrix descriptor of a shared-memory operand (PTX ISA "Matrix Descriptor Format"):
//   bits  0-13 start address >> 4, 16-29 leading dimension byte offset >> 4, 32-45 stride dimension byte offset >> 4,
//   bits 49-51 base offset (the start address's position within the swizzle pattern; 0 when the tile is aligned to
//   the pattern's repeat: 1024 bytes for 128B, 512 for 64B, 256 for 32B), bits 62-63 swizzle mode.
// `leading_bytes` (LBO) and `stride_bytes` (SBO) are the distances between core matrices (8 rows × 16 bytes) along
// the leading and the strided dimension (with a swizzle, SBO is the distance between 8-row groups and LBO is ignored
// for K-major operands).
__host__ __device__ __forceinline__ uint64_t make_smem_descriptor(uint32_t smem_address, uint32_t leading_bytes,
                                                                  uint32_t stride_bytes, Swizzle swizzle,
                                                                  uint32_t base_offset = 0) {
  return static_cast<uint64_t>((smem_address & 0x3FFFF) >> 4) |
         static_cast<uint64_t>((leading_bytes & 0x3FFFF) >> 4) << 16 |
         static_cast<uint64_t>((stride_bytes & 0x3FFFF) >> 4) << 32 |
         static_cast<uint64_t>(base_offset & 0x7) << 49 | static_cast<uint64_t>(swizzle) << 62;
}

}  // namespace hopper
}  // namespace attention

#ifdef ATTENTION_EMULATION
#include "emulation/hopper_emulation.hpp"
#else

// The accumulator operand lists of wgmma, 8 registers at a time: "%0, ..., %7" in the instruction text and the
// matching "+f"(d[0]) ... constraints (an m64nNk16 f32 accumulator is N/2 registers per thread).
#define HOPPER_ASM_D0 "%0, %1, %2, %3, %4, %5, %6, %7"
#define HOPPER_ASM_D1 "%8, %9, %10, %11, %12, %13, %14, %15"
#define HOPPER_ASM_D2 "%16, %17, %18, %19, %20, %21, %22, %23"
#define HOPPER_ASM_D3 "%24, %25, %26, %27, %28, %29, %30, %31"
#define HOPPER_ASM_D4 "%32, %33, %34, %35, %36, %37, %38, %39"
#define HOPPER_ASM_D5 "%40, %41, %42, %43, %44, %45, %46, %47"
#define HOPPER_ASM_D6 "%48, %49, %50, %51, %52, %53, %54, %55"
#define HOPPER_ASM_D7 "%56, %57, %58, %59, %60, %61, %62, %63"
#define HOPPER_ASM_D8 "%64, %65, %66, %67, %68, %69, %70, %71"
#define HOPPER_ASM_D9 "%72, %73, %74, %75, %76, %77, %78, %79"
#define HOPPER_ASM_D10 "%80, %81, %82, %83, %84, %85, %86, %87"
#define HOPPER_ASM_D11 "%88, %89, %90, %91, %92, %93, %94, %95"
#define HOPPER_ASM_D12 "%96, %97, %98, %99, %100, %101, %102, %103"
#define HOPPER_ASM_D13 "%104, %105, %106, %107, %108, %109, %110, %111"
#define HOPPER_ASM_D14 "%112, %113, %114, %115, %116, %117, %118, %119"
#define HOPPER_ASM_D15 "%120, %121, %122, %123, %124, %125, %126, %127"
#define HOPPER_OUT_D0(d) "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7])
#define HOPPER_OUT_D1(d) \
  "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15])
#define HOPPER_OUT_D2(d) \
  "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23])
#define HOPPER_OUT_D3(d) \
  "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
#define HOPPER_OUT_D4(d) \
  "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39])
#define HOPPER_OUT_D5(d) \
  "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47])
#define HOPPER_OUT_D6(d) \
  "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55])
#define HOPPER_OUT_D7(d) \
  "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
#define HOPPER_OUT_D8(d) \
  "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71])
#define HOPPER_OUT_D9(d) \
  "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]), "+f"(d[79])
#define HOPPER_OUT_D10(d) \
  "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87])
#define HOPPER_OUT_D11(d) \
  "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95])
#define HOPPER_OUT_D12(d) \
  "+f"(d[96]), "+f"(d[97]), "+f"(d[98]), "+f"(d[99]), "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103])
#define HOPPER_OUT_D13(d) \
  "+f"(d[104]), "+f"(d[105]), "+f"(d[106]), "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), "+f"(d[110]), "+f"(d[111])
#define HOPPER_OUT_D14(d) \
  "+f"(d[112]), "+f"(d[113]), "+f"(d[114]), "+f"(d[115]), "+f"(d[116]), "+f"(d[117]), "+f"(d[118]), "+f"(d[119])
#define HOPPER_OUT_D15(d) \
  "+f"(d[120]), "+f"(d[121]), "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]), "+f"(d[126]), "+f"(d[127])

// The accumulators of each N: 32, 48, 64, 96 or 128 registers.
#define HOPPER_ASM_N64 HOPPER_ASM_D0 ", " HOPPER_ASM_D1 ", " HOPPER_ASM_D2 ", " HOPPER_ASM_D3
#define HOPPER_OUT_N64(d) HOPPER_OUT_D0(d), HOPPER_OUT_D1(d), HOPPER_OUT_D2(d), HOPPER_OUT_D3(d)
#define HOPPER_ASM_N96 HOPPER_ASM_N64 ", " HOPPER_ASM_D4 ", " HOPPER_ASM_D5
#define HOPPER_OUT_N96(d) HOPPER_OUT_N64(d), HOPPER_OUT_D4(d), HOPPER_OUT_D5(d)
#define HOPPER_ASM_N128 HOPPER_ASM_N96 ", " HOPPER_ASM_D6 ", " HOPPER_ASM_D7
#define HOPPER_OUT_N128(d) HOPPER_OUT_N96(d), HOPPER_OUT_D6(d), HOPPER_OUT_D7(d)
#define HOPPER_ASM_N192 HOPPER_ASM_N128 ", " HOPPER_ASM_D8 ", " HOPPER_ASM_D9 ", " HOPPER_ASM_D10 ", " HOPPER_ASM_D11
#define HOPPER_OUT_N192(d) HOPPER_OUT_N128(d), HOPPER_OUT_D8(d), HOPPER_OUT_D9(d), HOPPER_OUT_D10(d), HOPPER_OUT_D11(d)
#define HOPPER_ASM_N256 \
  HOPPER_ASM_N192 ", " HOPPER_ASM_D12 ", " HOPPER_ASM_D13 ", " HOPPER_ASM_D14 ", " HOPPER_ASM_D15
#define HOPPER_OUT_N256(d) \
  HOPPER_OUT_N192(d), HOPPER_OUT_D12(d), HOPPER_OUT_D13(d), HOPPER_OUT_D14(d), HOPPER_OUT_D15(d)

namespace attention {
namespace hopper {

__device__ __forceinline__ uint32_t shared_address(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// ---- mbarrier (PTX ISA "Parallel Synchronization and Communication Instructions: mbarrier") --------------------------

// Initialises the 8-byte barrier at `bar` (shared memory) for `count` arrivals per phase, phase 0, tx-count 0. One
// thread initialises; fence_barrier_init and a block barrier make it visible before any other thread (or the TMA
// unit) uses it.
__device__ __forceinline__ void mbarrier_init(uint64_t* bar, uint32_t count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(shared_address(bar)), "r"(count) : "memory");
}

// Orders the mbarrier.init's before them for the async proxy (the TMA unit completes tx on these barriers).
__device__ __forceinline__ void fence_barrier_init() {
  asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
}

// One arrival on the current phase (release semantics: this thread's prior writes are visible to the waiters).
__device__ __forceinline__ void mbarrier_arrive(uint64_t* bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(shared_address(bar)) : "memory");
}

// Raises the current phase's tx-count by `bytes` (the bytes the TMA copies issued for this phase will complete)
// and arrives: the phase completes when every arrival is in and the tx-count is back to 0.
__device__ __forceinline__ void mbarrier_arrive_expect_tx(uint64_t* bar, uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(shared_address(bar)), "r"(bytes)
               : "memory");
}

// Raises the current phase's tx-count by `bytes` without arriving.
__device__ __forceinline__ void mbarrier_expect_tx(uint64_t* bar, uint32_t bytes) {
  asm volatile("mbarrier.expect_tx.relaxed.cta.shared::cta.b64 [%0], %1;\n" ::"r"(shared_address(bar)), "r"(bytes)
               : "memory");
}

// Whether the phase of parity `phase_parity` (0 or 1) has completed; a bounded, hardware-timed wait, not a spin.
__device__ __forceinline__ bool mbarrier_try_wait_parity(uint64_t* bar, uint32_t phase_parity) {
  uint32_t done;
  asm volatile(
      "{\n"
      ".reg .pred p;\n"
      "mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
      "selp.u32 %0, 1, 0, p;\n"
      "}\n"
      : "=r"(done)
      : "r"(shared_address(bar)), "r"(phase_parity)
      : "memory");
  return done != 0;
}

// Waits until the phase of parity `phase_parity` has completed (acquire: the writes released by its arrivals and the
// bytes of its TMA copies are visible afterwards).
__device__ __forceinline__ void mbarrier_wait_parity(uint64_t* bar, uint32_t phase_parity) {
  while (!mbarrier_try_wait_parity(bar, phase_parity)) {
  }
}

// ---- Proxy fence ----------------------------------------------------------------------------------------------------

// Makes this thread's prior generic-proxy writes to shared memory visible to the async proxy (wgmma operand reads,
// TMA stores) and orders prior async-proxy accesses before later generic ones. A block barrier after it extends this
// to the other threads' async operations.
__device__ __forceinline__ void fence_proxy_async_shared() {
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}

// ---- TMA: cp.async.bulk.tensor global -> shared ---------------------------------------------------------------------

// Copies the box at coordinates (c0 innermost, ...) of the tensor `map` into shared memory at `dst` (128-byte
// aligned; 1024 with the 128B swizzle) in the map's swizzle, and completes its bytes on `bar`'s current phase.
// Elements outside the tensor are zero-filled (and still counted). One thread issues it.
__device__ __forceinline__ void tma_load_2d(void* dst, const TensorMap* map, uint64_t* bar, int c0, int c1) {
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%3, %4}], [%2];\n" ::
          "r"(shared_address(dst)),
      "l"(map), "r"(shared_address(bar)), "r"(c0), "r"(c1)
      : "memory");
}
__device__ __forceinline__ void tma_load_3d(void* dst, const TensorMap* map, uint64_t* bar, int c0, int c1, int c2) {
  asm volatile(
      "cp.async.bulk.tensor.3d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%3, %4, %5}], [%2];\n" ::
          "r"(shared_address(dst)),
      "l"(map), "r"(shared_address(bar)), "r"(c0), "r"(c1), "r"(c2)
      : "memory");
}
__device__ __forceinline__ void tma_load_4d(void* dst, const TensorMap* map, uint64_t* bar, int c0, int c1, int c2,
                                            int c3) {
  asm volatile(
      "cp.async.bulk.tensor.4d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%3, %4, %5, %6}], "
      "[%2];\n" ::"r"(shared_address(dst)),
      "l"(map), "r"(shared_address(bar)), "r"(c0), "r"(c1), "r"(c2), "r"(c3)
      : "memory");
}

// ---- TMA: cp.async.bulk.tensor shared -> global (bulk groups) -------------------------------------------------------

// Writes the box at `src` (laid out and swizzled as a load of the same map lays it out) to the tensor `map` at
// coordinates (c0 innermost, ...); elements outside the tensor are not written. Reads shared memory through the async
// proxy: the generic writes of the box need fence.proxy.async (and a barrier) first. One thread issues it.
__device__ __forceinline__ void tma_store_2d(const TensorMap* map, const void* src, int c0, int c1) {
  asm volatile("cp.async.bulk.tensor.2d.global.shared::cta.bulk_group [%0, {%2, %3}], [%1];\n" ::"l"(map),
               "r"(shared_address(src)), "r"(c0), "r"(c1)
               : "memory");
}
__device__ __forceinline__ void tma_store_3d(const TensorMap* map, const void* src, int c0, int c1, int c2) {
  asm volatile("cp.async.bulk.tensor.3d.global.shared::cta.bulk_group [%0, {%2, %3, %4}], [%1];\n" ::"l"(map),
               "r"(shared_address(src)), "r"(c0), "r"(c1), "r"(c2)
               : "memory");
}
__device__ __forceinline__ void tma_store_4d(const TensorMap* map, const void* src, int c0, int c1, int c2, int c3) {
  asm volatile("cp.async.bulk.tensor.4d.global.shared::cta.bulk_group [%0, {%2, %3, %4, %5}], [%1];\n" ::"l"(map),
               "r"(shared_address(src)), "r"(c0), "r"(c1), "r"(c2), "r"(c3)
               : "memory");
}

// Closes the bulk group of this thread's TMA stores issued since the last commit.
__device__ __forceinline__ void tma_store_commit() { asm volatile("cp.async.bulk.commit_group;\n" ::: "memory"); }

// Waits until at most kPending bulk groups have not finished reading their shared memory (which may then be
// rewritten); tma_store_wait waits for their global writes as well.
template <int kPending>
__device__ __forceinline__ void tma_store_wait_read() {
  asm volatile("cp.async.bulk.wait_group.read %0;\n" ::"n"(kPending) : "memory");
}
template <int kPending>
__device__ __forceinline__ void tma_store_wait() {
  asm volatile("cp.async.bulk.wait_group %0;\n" ::"n"(kPending) : "memory");
}

// ---- wgmma (PTX ISA "Asynchronous Warpgroup Level Matrix Multiply-Accumulate") ---------------------------------------

// Orders this warp's prior register and shared-memory accesses before the wgmma.mma_async's after it: issued by all
// warps of the warpgroup before the first wgmma and whenever the accumulators or A registers were touched since.
__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }

// Closes the group of wgmma.mma_async's issued since the last commit.
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }

// Waits until at most `kPending` committed groups are in flight; only then are their accumulators (and, for RS, the
// A registers and shared operands) safe to touch.
template <int kPending>
__device__ __forceinline__ void wgmma_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(kPending) : "memory");
}

// Keeps the compiler from moving accesses to an accumulator register across the wgmma fence/commit/wait around it
// (the asm statements above do not name the registers).
template <int kCount>
__device__ __forceinline__ void fence_accumulators(float (&d)[kCount]) {
#pragma unroll
  for (int i = 0; i < kCount; ++i) asm volatile("" : "+f"(d[i])::"memory");
}

// The m64nNk16 instruction for one N and element type (f16 or bf16; f32 accumulators).
template <int N, typename T>
struct Wgmma;

#define HOPPER_WGMMA_SS(N, TYPE, REGS, A, B, P, TA, TB)                                                            \
  "{\n.reg .pred p;\nsetp.ne.b32 p, %" #P ", 0;\nwgmma.mma_async.sync.aligned.m64n" #N "k16.f32." TYPE "." TYPE   \
  " {" REGS "}, %" #A ", %" #B ", p, 1, 1, %" #TA ", %" #TB ";\n}\n"
#define HOPPER_WGMMA_RS(N, TYPE, REGS, A0, A1, A2, A3, B, P, TB)                                                   \
  "{\n.reg .pred p;\nsetp.ne.b32 p, %" #P ", 0;\nwgmma.mma_async.sync.aligned.m64n" #N "k16.f32." TYPE "." TYPE   \
  " {" REGS "}, {%" #A0 ", %" #A1 ", %" #A2 ", %" #A3 "}, %" #B ", p, 1, 1, %" #TB ";\n}\n"

// c is the accumulator count (N/2): the operands after the accumulators are numbered from it.
#define HOPPER_DEFINE_WGMMA(N, T, TYPE, c0, c1, c2, c3, c4, c5, c6)                                                \
  template <>                                                                                                      \
  struct Wgmma<N, T> {                                                                                             \
    template <Major kMajorA, Major kMajorB>                                                                        \
    static __device__ __forceinline__ void ss(float (&d)[N / 2], uint64_t a, uint64_t b, uint32_t scale_d) {       \
      asm volatile(HOPPER_WGMMA_SS(N, TYPE, HOPPER_ASM_N##N, c0, c1, c2, c3, c4)                                   \
                   : HOPPER_OUT_N##N(d)                                                                            \
                   : "l"(a), "l"(b), "r"(scale_d), "n"(static_cast<int>(kMajorA)), "n"(static_cast<int>(kMajorB))  \
                   : "memory");                                                                                    \
    }                                                                                                              \
    template <Major kMajorB>                                                                                       \
    static __device__ __forceinline__ void rs(float (&d)[N / 2], const uint32_t (&a)[4], uint64_t b,               \
                                              uint32_t scale_d) {                                                  \
      asm volatile(HOPPER_WGMMA_RS(N, TYPE, HOPPER_ASM_N##N, c0, c1, c2, c3, c4, c5, c6)                           \
                   : HOPPER_OUT_N##N(d)                                                                            \
                   : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b), "r"(scale_d),                             \
                     "n"(static_cast<int>(kMajorB))                                                                \
                   : "memory");                                                                                    \
    }                                                                                                              \
  };
#define HOPPER_DEFINE_WGMMA_BOTH(N, c0, c1, c2, c3, c4, c5, c6)        \
  HOPPER_DEFINE_WGMMA(N, __half, "f16", c0, c1, c2, c3, c4, c5, c6) \
  HOPPER_DEFINE_WGMMA(N, __nv_bfloat16, "bf16", c0, c1, c2, c3, c4, c5, c6)

// N = 64, 128, 256: the key tile of S = Q·Kᵀ and the value head dims of O += P·V; 96 and 192 for head dims 96/192.
HOPPER_DEFINE_WGMMA_BOTH(64, 32, 33, 34, 35, 36, 37, 38)
HOPPER_DEFINE_WGMMA_BOTH(96, 48, 49, 50, 51, 52, 53, 54)
HOPPER_DEFINE_WGMMA_BOTH(128, 64, 65, 66, 67, 68, 69, 70)
HOPPER_DEFINE_WGMMA_BOTH(192, 96, 97, 98, 99, 100, 101, 102)
HOPPER_DEFINE_WGMMA_BOTH(256, 128, 129, 130, 131, 132, 133, 134)

// d (64×N per warpgroup, N/2 fp32 per thread) = A·B + (scale_d ? d : 0), A 64×16 and B 16×N from shared-memory
// descriptors; issued by all 128 threads of the warpgroup, asynchronous until wgmma_wait.
template <int N, typename T, Major kMajorA = Major::kK, Major kMajorB = Major::kK>
__device__ __forceinline__ void wgmma_ss(float (&d)[N / 2], uint64_t desc_a, uint64_t desc_b, uint32_t scale_d) {
  Wgmma<N, T>::template ss<kMajorA, kMajorB>(d, desc_a, desc_b, scale_d);
}

// The same with A from registers: 4 per thread, the m64k16 A fragment (warp w holds rows 16w..16w+15, lane l rows
// l/4 and l/4+8, columns 2(l%4)+{0,1} and +8, like mma.sync m16n8k16's A).
template <int N, typename T, Major kMajorB = Major::kK>
__device__ __forceinline__ void wgmma_rs(float (&d)[N / 2], const uint32_t (&a)[4], uint64_t desc_b,
                                         uint32_t scale_d) {
  Wgmma<N, T>::template rs<kMajorB>(d, a, desc_b, scale_d);
}

// ---- Registers and named barriers -----------------------------------------------------------------------------------

// Raises (inc) or lowers (dec) the per-thread register limit of this warpgroup to kRegisters (24..256, a multiple of
// 8; all warps of the warpgroup execute it): producers give registers up, consumers take them.
template <int kRegisters>
__device__ __forceinline__ void setmaxnreg_inc() {
  static_assert(kRegisters >= 24 && kRegisters <= 256 && kRegisters % 8 == 0, "setmaxnreg: 24..256, multiple of 8");
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(kRegisters));
}
template <int kRegisters>
__device__ __forceinline__ void setmaxnreg_dec() {
  static_assert(kRegisters >= 24 && kRegisters <= 256 && kRegisters % 8 == 0, "setmaxnreg: 24..256, multiple of 8");
  asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(kRegisters));
}

// Named barrier `id` (1..15; 0 is __syncthreads) of `threads` threads (a multiple of 32): sync waits for all of them,
// arrive counts this warp in without waiting (the producer side of a producer/consumer hand-off).
__device__ __forceinline__ void named_barrier_sync(uint32_t id, uint32_t threads) {
  asm volatile("bar.sync %0, %1;\n" ::"r"(id), "r"(threads) : "memory");
}
__device__ __forceinline__ void named_barrier_arrive(uint32_t id, uint32_t threads) {
  asm volatile("bar.arrive %0, %1;\n" ::"r"(id), "r"(threads) : "memory");
}

}  // namespace hopper
}  // namespace attention

#undef HOPPER_DEFINE_WGMMA_BOTH
#undef HOPPER_DEFINE_WGMMA
#undef HOPPER_WGMMA_RS
#undef HOPPER_WGMMA_SS

#endif  // ATTENTION_EMULATION
