// Host emulation of the warp-matrix primitives of Native/warp_matrix.cuh (included from there when
// ATTENTION_EMULATION is defined), for the fiber emulations: every CUDA thread is a fiber and a warp's lanes meet at
// warp barriers. Each primitive is warp-cooperative like the instruction: all 32 lanes publish their operands, meet,
// and each lane takes its own result as the PTX ISA lays it out (mma.sync m16n8k16 and m16n8k8 .tf32, ldmatrix
// fragments; cvt.rna.tf32.f32 bit-exact; ex2.approx.ftz to its documented 2 ulp, device_math_emulation.hpp). cp.async
// copies land at one of the two extremes a GPU allows, chosen per launch (copies_land_at_issue): as late as possible,
// when a cp.async.wait_group releases their group, so that a kernel reading a tile before its wait (or before the
// __syncthreads after it) reads stale data; or at once, so that a kernel refilling a buffer that other warps may still
// be reading (a missing __syncthreads before the refill) corrupts what they read. Every address an instruction takes
// is checked as the GPU does (alignment, shared memory bounds): a violation is a fault of the launch.
//
// Include after cuda_fiber_runtime.hpp (its lanes, warp barriers and dynamic shared memory).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "attention_common.cuh"  // to_float, from_float

namespace emulation {

// A warp's operands in flight: every lane writes its own row, then reads the others' after a warp barrier.
struct WarpExchange {
  const void* address[32];
  uint32_t a[32][4];
  uint32_t b[32][2];
};

struct PendingCopy {
  void* dst;
  const void* src;
  int bytes;
  int size = 16;  // the copy's cp-size: bytes past `bytes` up to it are zero-filled
};

// One thread's cp.async copies: committed groups, oldest first, and the group still open.
struct CopyQueue {
  std::vector<std::vector<PendingCopy>> committed;
  std::vector<PendingCopy> open;
  dim3 block{~0u, ~0u, ~0u};  // the block these copies belong to
};

// Per resident block: each runs on an OS thread of its own (cuda_fiber_runtime.hpp).
inline thread_local std::vector<WarpExchange> warp_exchanges;
inline thread_local std::vector<CopyQueue> copy_queues;

inline int linear_thread() {
  return static_cast<int>(threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z));
}

inline WarpExchange& warp_exchange() {
  const size_t warps = (blockDim.count() + 31) / 32;
  if (warp_exchanges.size() < warps) warp_exchanges.resize(warps);
  return warp_exchanges[linear_thread() / 32];
}

// Copies a block left in flight when it returned are dropped when the thread runs in another block; call
// reset_copy_queues() before each launch, as the next launch's blocks may have the same indices (the resident blocks'
// threads are new for each launch: their queues start empty).
inline CopyQueue& copy_queue() {
  if (copy_queues.size() < blockDim.count()) copy_queues.resize(blockDim.count());
  CopyQueue& queue = copy_queues[linear_thread()];
  if (queue.block.x != blockIdx.x || queue.block.y != blockIdx.y || queue.block.z != blockIdx.z) {
    queue = CopyQueue{};
    queue.block = blockIdx;
  }
  return queue;
}

inline void reset_copy_queues() { copy_queues.clear(); }

// Whether cp.async copies land when issued (true) or when their group is waited for (false, the default).
inline bool copies_land_at_issue = false;

inline void land(const PendingCopy& copy) {
  if (copy.bytes > 0) std::memcpy(copy.dst, copy.src, copy.bytes);
  std::memset(static_cast<unsigned char*>(copy.dst) + copy.bytes, 0, copy.size - copy.bytes);
}

inline bool in_shared(const void* p, size_t bytes) {
  const auto* c = static_cast<const unsigned char*>(p);
  return c >= dynamic_shared.bytes && c + bytes <= dynamic_shared.bytes + dynamic_shared.capacity;
}

// A shared-memory operand of `bytes` at p, `alignment`-aligned and inside the block's dynamic shared memory.
inline void check_shared(const void* p, size_t alignment, size_t bytes, const char* what) {
  check_aligned_access(p, alignment, bytes, what);
  if (!in_shared(p, bytes)) {
    raise_fault(FaultKind::kIllegalAddress, "%s of %zu bytes at %p, outside the block's shared memory", what, bytes, p);
  }
}

inline int lane() { return lane_id(); }

}  // namespace emulation

namespace attention {
namespace wm {

inline void cp_async_16(void* shared_dst, const void* global_src, int src_bytes) {
  emulation::check_shared(shared_dst, 16, 16, "cp.async destination");
  if (src_bytes < 0 || src_bytes > 16) {
    emulation::raise_fault(emulation::FaultKind::kLaunchFailed, "cp.async src-size %d outside [0, 16]", src_bytes);
  }
  if (src_bytes > 0) emulation::check_aligned_access(global_src, 16, 16, "cp.async source");
  if (emulation::copies_land_at_issue) {
    emulation::land({shared_dst, global_src, src_bytes});
  } else {
    emulation::copy_queue().open.push_back({shared_dst, global_src, src_bytes});
  }
}

// cp.async.ca of 4 bytes (src_bytes 0 or 4), as the split-KV path copies a scale.
inline void cp_async_4(void* shared_dst, const void* global_src, int src_bytes) {
  emulation::check_shared(shared_dst, 4, 4, "cp.async destination");
  if (src_bytes != 0 && src_bytes != 4) {
    emulation::raise_fault(emulation::FaultKind::kLaunchFailed, "cp.async src-size %d outside {0, 4}", src_bytes);
  }
  if (src_bytes > 0) emulation::check_aligned_access(global_src, 4, 4, "cp.async source");
  const emulation::PendingCopy copy{shared_dst, global_src, src_bytes, 4};
  if (emulation::copies_land_at_issue) {
    emulation::land(copy);
  } else {
    emulation::copy_queue().open.push_back(copy);
  }
}

inline void cp_async_commit() {
  emulation::CopyQueue& queue = emulation::copy_queue();
  queue.committed.push_back(std::move(queue.open));
  queue.open.clear();
}

template <int kPending>
inline void cp_async_wait() {
  emulation::CopyQueue& queue = emulation::copy_queue();
  while (queue.committed.size() > static_cast<size_t>(kPending)) {
    for (const emulation::PendingCopy& copy : queue.committed.front()) emulation::land(copy);
    queue.committed.erase(queue.committed.begin());
  }
}

// ldmatrix .x1/.x2/.x4 (kCount matrices), optionally .trans: lanes 8i..8i+7 address the rows of matrix i.
template <int kCount, bool kTrans>
inline void ldmatrix(uint32_t* r, const void* row) {
  emulation::WarpExchange& ex = emulation::warp_exchange();
  const int lane = emulation::lane();
  ex.address[lane] = row;
  emulation::warp_barrier();
  for (int i = 0; i < kCount; ++i) {
    uint16_t e[2];
    for (int x = 0; x < 2; ++x) {
      // Plain: row lane / 4, columns 2 (lane % 4) + x. Trans: the transpose, row 2 (lane % 4) + x, column lane / 4.
      const int source_row = kTrans ? 2 * (lane % 4) + x : lane / 4;
      const int column = kTrans ? lane / 4 : 2 * (lane % 4) + x;
      const void* address = ex.address[8 * i + source_row];
      emulation::check_shared(address, 16, 16, "ldmatrix row");
      std::memcpy(&e[x], static_cast<const unsigned char*>(address) + 2 * column, 2);
    }
    r[i] = static_cast<uint32_t>(e[0]) | static_cast<uint32_t>(e[1]) << 16;
  }
  emulation::warp_barrier();
}

inline void ldmatrix_x1(uint32_t (&r)[1], const void* row) { ldmatrix<1, false>(r, row); }
inline void ldmatrix_x2(uint32_t (&r)[2], const void* row) { ldmatrix<2, false>(r, row); }
inline void ldmatrix_x4(uint32_t (&r)[4], const void* row) { ldmatrix<4, false>(r, row); }
inline void ldmatrix_x4_trans(uint32_t (&r)[4], const void* row) { ldmatrix<4, true>(r, row); }

template <typename T>
inline float element(uint32_t reg, int which) {
  const uint16_t bits = static_cast<uint16_t>(reg >> (16 * which));
  T x;
  std::memcpy(&x, &bits, 2);
  return to_float(x);
}

// mma.sync.aligned.m16n8k16.row.col.f32.T.T.f32, d = a · b + d. Fragments (PTX ISA, "Matrix Fragments for
// mma.m16n8k16"), with g = lane / 4, t = lane % 4:
//   A 16×16: a0 (g, 2t..2t+1), a1 (g+8, 2t..), a2 (g, 2t+8..), a3 (g+8, 2t+8..);
//   B 16×8:  b0 (k = 2t..2t+1, n = g), b1 (k = 2t+8.., n = g);
//   C/D 16×8: c0, c1 (g, 2t..2t+1), c2, c3 (g+8, 2t..2t+1).
// Products of f16/bf16 values are exact in fp32; the sum runs in fp32 in k order (the hardware's order and
// intermediate rounding are unspecified; the check's tolerance covers either).
// The warp-cooperative part of both mma shapes: every lane publishes its A and B registers, then takes its four
// accumulators (C/D rows g and g + 8, columns 2t and 2t + 1) as d + Σ_k A(row, k) · B(k, col) over kK, in k order.
// a_at / b_at read an element of A / B from the published registers.
template <int kK, typename AAt, typename BAt>
inline void warp_mma(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], AAt a_at, BAt b_at) {
  emulation::WarpExchange& ex = emulation::warp_exchange();
  const int lane = emulation::lane();
  std::memcpy(ex.a[lane], a, sizeof a);
  std::memcpy(ex.b[lane], b, sizeof b);
  emulation::warp_barrier();
  float out[4];
  for (int e = 0; e < 4; ++e) {
    const int row = lane / 4 + (e >= 2 ? 8 : 0);
    const int col = 2 * (lane % 4) + (e % 2);
    float sum = d[e];
    for (int k = 0; k < kK; ++k) sum += a_at(ex, row, k) * b_at(ex, k, col);
    out[e] = sum;
  }
  emulation::warp_barrier();
  std::memcpy(d, out, sizeof out);
}

template <typename T>
inline void mma_16816(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
  warp_mma<16>(
      d, a, b,
      [](const emulation::WarpExchange& ex, int row, int col) {
        return element<T>(ex.a[(row % 8) * 4 + (col % 8) / 2][(row >= 8 ? 1 : 0) + (col >= 8 ? 2 : 0)], col % 2);
      },
      [](const emulation::WarpExchange& ex, int k, int n) {
        return element<T>(ex.b[n * 4 + (k % 8) / 2][k >= 8 ? 1 : 0], k % 2);
      });
}

// cvt.rna.tf32.f32: round to nearest on the 13 low mantissa bits, ties away from zero, and clear them. Adding half
// of the dropped range to the bit pattern rounds the magnitude (sign-magnitude), carrying into the exponent as the
// instruction does (the largest floats become ∞); ∞ and NaN pass unchanged.
inline uint32_t to_tf32(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  if ((bits & 0x7f800000u) == 0x7f800000u) return bits;
  return (bits + 0x1000u) & ~0x1fffu;
}

// mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32, d = a · b + d. Fragments (PTX ISA, "Matrix Fragments for
// mma.m16n8k8", .tf32), with g = lane / 4, t = lane % 4:
//   A 16×8: a0 (g, t), a1 (g+8, t), a2 (g, t+4), a3 (g+8, t+4);
//   B 8×8:  b0 (k = t, n = g), b1 (k = t+4, n = g);
//   C/D 16×8: as m16n8k16.
// An operand with any of its 13 low mantissa bits set was not converted (to_tf32): the tensor cores would ignore
// those bits, so the emulation stops instead. Products of TF32 values are exact in fp32; the sum runs in k order.
inline float tf32_value(uint32_t bits) {
  if ((bits & 0x7f800000u) != 0x7f800000u && (bits & 0x1fffu) != 0) {
    emulation::raise_fault(emulation::FaultKind::kLaunchFailed,
                           "mma .tf32 operand %#x not rounded to TF32 (cvt.rna.tf32.f32)", bits);
  }
  float x;
  std::memcpy(&x, &bits, 4);
  return x;
}

inline void mma_1688_tf32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
  warp_mma<8>(
      d, a, b,
      [](const emulation::WarpExchange& ex, int row, int col) {
        return tf32_value(ex.a[(row % 8) * 4 + col % 4][(row >= 8 ? 1 : 0) + (col >= 4 ? 2 : 0)]);
      },
      [](const emulation::WarpExchange& ex, int k, int n) { return tf32_value(ex.b[n * 4 + k % 4][k >= 4 ? 1 : 0]); });
}

template <typename T>
inline uint32_t pack_pair(float lo, float hi) {
  const T l = from_float<T>(lo), h = from_float<T>(hi);
  uint16_t lb, hb;
  std::memcpy(&lb, &l, 2);
  std::memcpy(&hb, &h, 2);
  return static_cast<uint32_t>(lb) | static_cast<uint32_t>(hb) << 16;
}

// ex2.approx.ftz.f32: 2 ulp, subnormals flushed (device_math_emulation.hpp).
inline float exp2_approx(float x) { return emulation::device_math::ex2_approx_ftz(x); }

// st.b32 of a packed pair: 4-byte aligned.
template <typename T>
inline void store_pair(T* dst, float lo, float hi) {
  emulation::check_aligned_access(dst, 4, 4, "store of an element pair");
  const uint32_t bits = pack_pair<T>(lo, hi);
  std::memcpy(dst, &bits, 4);
}

}  // namespace wm
}  // namespace attention
