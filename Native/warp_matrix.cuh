// The warp-matrix primitives of the mma kernels, each a small inline wrapper around one PTX instruction:
// 16-byte cp.async (+ commit / wait_group), ldmatrix (.x1/.x2/.x4, .trans), mma.sync m16n8k16 (f16/bf16) and
// m16n8k8 (tf32) with fp32 accumulators, the f32 -> tf32 conversion, and the f32 -> f16x2 / bf16x2 packing of an
// accumulator pair into an A operand register.
//
// With ATTENTION_EMULATION defined (Native/emulation/*.cpp) the same names come from
// emulation/warp_matrix_emulation.hpp instead: warp-cooperative host versions with the PTX ISA's fragment layouts,
// so the emulated kernel runs its own code paths and only these leaf instructions are stand-ins.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

#include "attention_common.cuh"

#ifdef ATTENTION_EMULATION
#include "emulation/warp_matrix_emulation.hpp"
#else

namespace attention {
namespace wm {

__device__ __forceinline__ uint32_t shared_address(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// Copies 16 bytes global -> shared without passing through registers (L1 bypassed: .cg). Only the first
// `src_bytes` (0..16) are read; the rest of the 16 is zero-filled, which is how tile edges (rows past the sequence,
// columns past the head dim) become zeros. Both addresses must be 16-byte aligned.
__device__ __forceinline__ void cp_async_16(void* shared_dst, const void* global_src, int src_bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(shared_address(shared_dst)),
               "l"(global_src), "r"(src_bytes));
}

// Closes the group of copies issued since the last commit.
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }

// Waits until at most `kPending` committed groups are still in flight (this thread's copies only: a
// __syncthreads must follow before other threads read them).
template <int kPending>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(kPending));
}

// ldmatrix: lane l gives the address of one 16-byte row (row l % 8 of matrix l / 8); register i of every lane
// receives its fragment of matrix i: row lane / 4, columns 2 (lane % 4) and +1 (or the transpose with .trans).
__device__ __forceinline__ void ldmatrix_x1(uint32_t (&r)[1], const void* row) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x1.shared.b16 {%0}, [%1];\n" : "=r"(r[0]) : "r"(shared_address(row)));
}
__device__ __forceinline__ void ldmatrix_x2(uint32_t (&r)[2], const void* row) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0, %1}, [%2];\n"
               : "=r"(r[0]), "=r"(r[1])
               : "r"(shared_address(row)));
}
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const void* row) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_address(row)));
}
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const void* row) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_address(row)));
}

// d += a · b for one 16×8×16 tile: a is 16×16 row-major (4 registers of 2 elements), b 16×8 column-major
// (2 registers), d 16×8 fp32 (4 per lane). Element types are those of T.
template <typename T>
__device__ __forceinline__ void mma_16816(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]);

template <>
__device__ __forceinline__ void mma_16816<__half>(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
  asm("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

template <>
__device__ __forceinline__ void mma_16816<__nv_bfloat16>(float (&d)[4], const uint32_t (&a)[4],
                                                         const uint32_t (&b)[2]) {
  asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// Two fp32 values rounded to nearest even into one register: `lo` in bits 0-15 (the lower column of the pair).
template <typename T>
__device__ __forceinline__ uint32_t pack_pair(float lo, float hi);

template <>
__device__ __forceinline__ uint32_t pack_pair<__half>(float lo, float hi) {
  const __half2 h = __floats2half2_rn(lo, hi);
  return *reinterpret_cast<const uint32_t*>(&h);
}

template <>
__device__ __forceinline__ uint32_t pack_pair<__nv_bfloat16>(float lo, float hi) {
  const __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<const uint32_t*>(&h);
}

// fp32 -> TF32 (cvt.rna: round to nearest, ties away from zero, on the 13 low mantissa bits, which become 0): the
// operand register of a .tf32 mma. Without it the tensor cores would truncate those bits.
__device__ __forceinline__ uint32_t to_tf32(float x) {
  uint32_t r;
  asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(r) : "f"(x));
  return r;
}

// d += a · b for one 16×8×8 tile of TF32 operands: a 16×8 row-major (4 registers), b 8×8 column-major (2), d 16×8
// fp32 (4 per lane, the m16n8k16 accumulator layout).
__device__ __forceinline__ void mma_1688_tf32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
  asm("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// 2^x on the SFU with denormal results flushed to zero (ex2.approx.ftz: about 2 ulp, 2^−∞ = 0). exp2f without fast
// math wraps the same instruction in a range check and two multiplies to keep denormal results, which a softmax
// weight below 2^−126 does not need.
__device__ __forceinline__ float exp2_approx(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
  return y;
}

// Stores two adjacent elements (4-byte aligned) rounded to T.
template <typename T>
__device__ __forceinline__ void store_pair(T* dst, float lo, float hi) {
  *reinterpret_cast<uint32_t*>(dst) = pack_pair<T>(lo, hi);
}

}  // namespace wm
}  // namespace attention

#endif  // ATTENTION_EMULATION

namespace attention {
namespace wm {

// fp32 pairs (attention_mma's TF32 path) are stored as they are, 8 bytes at once: dst must be 8-byte aligned.
template <>
__device__ __forceinline__ void store_pair<float>(float* dst, float lo, float hi) {
  *reinterpret_cast<float2*>(dst) = make_float2(lo, hi);
}

}  // namespace wm
}  // namespace attention
