// Kernels with planted bugs, compiled into the emulated device by device_selftest.cpp only: each does one thing a GPU
// stops or betrays, so that the self-test can hold the device to catching it. They take one parameter struct, as the
// library's kernels do (its pointer fields are found the same way).
#pragma once

#include "warp_matrix.cuh"  // cp.async and ex2.approx.ftz, as the mma kernels issue them

namespace selftest {

struct Params {
  float* a;
  float* b;
  const float* c;
  int n;
  int offset;  // a byte offset some kernels add to a
};

}  // namespace selftest

// Thread 1 of block 0 loads 16 bytes as a uint4 from a + offset bytes (misaligned unless offset is a multiple of 16).
extern "C" __global__ void selftest_vector_load(const __grid_constant__ selftest::Params params) {
  if (blockIdx.x == 0 && threadIdx.x == 1) {
    const uint4 v = *reinterpret_cast<const uint4*>(reinterpret_cast<const char*>(params.a) + params.offset);
    params.b[0] = static_cast<float>(v.x);
  }
}

// Every thread stores a float2 at a + offset bytes + 8 · thread.
extern "C" __global__ void selftest_vector_store(const __grid_constant__ selftest::Params params) {
  char* base = reinterpret_cast<char*>(params.a) + params.offset;
  *reinterpret_cast<float2*>(base + 8 * threadIdx.x) = make_float2(1.0f, 2.0f);
}

// Thread i of the grid's block b copies c[b·blockDim + i] to a[b·blockDim + i] for indices below n + offset: an
// offset past 0 reads and writes past the end of n elements.
extern "C" __global__ void selftest_copy(const __grid_constant__ selftest::Params params) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < params.n + params.offset) params.a[i] = params.c[i];
}

// Thread 0 of each block writes a[b] = b + 1 — after reading a[b − 1], which it takes to be block b − 1's, finished
// before it started (b[b] = what it read): an assumption that blocks run one after another in index order.
extern "C" __global__ void selftest_block_chain(const __grid_constant__ selftest::Params params) {
  if (threadIdx.x != 0) return;
  const int b = static_cast<int>(blockIdx.x);
  params.b[b] = b == 0 ? 0.0f : params.a[b - 1];
  params.a[b] = static_cast<float>(b + 1);
}

// Thread 0 of every block adds 1 to a[0] with a plain read, then a write after a __syncthreads: an increment that is
// only safe while no other block runs in between (blocks resident together lose increments).
extern "C" __global__ void selftest_block_counter(const __grid_constant__ selftest::Params params) {
  const float seen = params.a[0];
  __syncthreads();
  if (threadIdx.x == 0) params.a[0] = seen + 1.0f;
}

// Each block's threads write its index into a static __shared__ array, meet, and thread 0 checks every entry: blocks
// resident together must not share it (b[block] = 1 when it saw only its own index).
extern "C" __global__ void selftest_shared_isolation(const __grid_constant__ selftest::Params params) {
  __shared__ float mine[64];
  mine[threadIdx.x] = static_cast<float>(blockIdx.x);
  __syncthreads();
  if (threadIdx.x == 0) {
    bool own = true;
    for (unsigned t = 0; t < blockDim.x; ++t) own = own && mine[t] == static_cast<float>(blockIdx.x);
    params.b[blockIdx.x] = own ? 1.0f : 0.0f;
  }
  __syncthreads();
}

// b[i] = 2^c[i] through the mma kernels' ex2.approx.ftz (attention::wm::exp2_approx), and a[i] = exp2f(c[i]).
extern "C" __global__ void selftest_exp2(const __grid_constant__ selftest::Params params) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < params.n) {
    params.b[i] = attention::wm::exp2_approx(params.c[i]);
    params.a[i] = exp2f(params.c[i]);
  }
}

// A 16-byte cp.async from a + offset bytes into shared memory (misaligned unless offset is a multiple of 16).
extern "C" __global__ void selftest_cp_async(const __grid_constant__ selftest::Params params) {
  extern __shared__ float shared[];
  attention::wm::cp_async_16(shared, reinterpret_cast<const char*>(params.a) + params.offset, 16);
  attention::wm::cp_async_commit();
  attention::wm::cp_async_wait<0>();
}

// Its PTX (device_selftest.cpp) keeps about 200 values live at once, so that ptxas gives it about 200 registers: more
// threads than 65 536 / 200 in a block cannot launch.
extern "C" __global__ void selftest_many_registers(const __grid_constant__ selftest::Params) {}
