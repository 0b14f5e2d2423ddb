// CUDA on the host, for the emulations in this folder: a kernel's own .cu source compiled as host C++, each CUDA
// thread of a block a fiber (ucontext) on one OS thread, blocks run one after another.
//
// Fibers switch only at barriers — every warp-synchronous primitive (shuffles, votes, __syncwarp) is a warp barrier,
// __syncthreads a block barrier — so between two barriers a thread runs alone, as if every other thread had done its
// part before or will do it after: the weakest ordering the CUDA memory model promises within a barrier interval.
// A barrier that not every lane of a warp (or thread of the block) reaches is reported as a deadlock.
//
// What a kernel may use:
//   threadIdx, blockIdx, blockDim, gridDim (dim3); float2/float4/uint2/uint4/int4;
//   __shfl_sync, __shfl_xor_sync, __shfl_up_sync, __shfl_down_sync (any trivially copyable type of at most 8 bytes,
//   width 1..32), __ballot_sync, __any_sync, __all_sync, __syncwarp, __syncthreads, __threadfence, __ldg, atomicAdd;
//   `__shared__ T x[N];` at block scope: one copy per block (it is thread_local, so static storage shared by the
//   fibers of the one OS thread), not zeroed between blocks — as on a GPU, a kernel must write before it reads;
//   `extern __shared__ T name[];` dynamic shared memory: the emulation defines it once with
//   CUDA_EMULATION_DYNAMIC_SHARED(namespace, T, name) before including the kernel; emulation::launch fills it with
//   a NaN pattern before each block (reads before writes show up as NaN) and reports writes past the size launched.
// `__grid_constant__` (an entry point's parameter struct, kept in the kernel's parameter space on a GPU) is defined
// away: on the host the struct is an ordinary by-value parameter.
// Warp-synchronous primitives take the full mask of the warp (a warp with fewer than 32 threads, at the end of a
// block, has fewer bits); partial masks abort — none of our kernels diverge around a shuffle.
//
// Host math (expf, tanhf, exp2f, …) stands in for the device's: an emulation checks a kernel's logic (ranges,
// indexing, barriers, reductions), not the GPU's arithmetic.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>
#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <type_traits>
#include <ucontext.h>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __shared__ thread_local
#undef __forceinline__
#define __forceinline__ inline
#undef __noinline__
#define __noinline__
#define __launch_bounds__(...)
#define __grid_constant__
#ifndef __restrict__
#define __restrict__ __restrict
#endif

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
  constexpr unsigned count() const { return x * y * z; }
};
using uint3 = dim3;

inline dim3 threadIdx, blockIdx, blockDim, gridDim;

// The vector types a kernel may load and store 8 or 16 bytes at a time through.
struct alignas(8) float2 { float x, y; };
struct alignas(16) float4 { float x, y, z, w; };
struct alignas(8) uint2 { unsigned x, y; };
struct alignas(16) uint4 { unsigned x, y, z, w; };
struct alignas(16) int4 { int x, y, z, w; };
inline float2 make_float2(float x, float y) { return {x, y}; }
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }

// CUDA's integer min/max overloads (host <cmath> has only the floating-point ones).
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }

namespace emulation {

constexpr int kWarpSize = 32;
constexpr size_t kMaxDynamicShared = 256 * 1024;  // more than any GPU offers a block (H100/H200: 227 KiB)

// The dynamic shared memory the emulation defined (CUDA_EMULATION_DYNAMIC_SHARED), if any.
struct DynamicShared {
  unsigned char* bytes = nullptr;
  size_t capacity = 0;
};
inline DynamicShared dynamic_shared;

struct Warp {
  int size = kWarpSize;  // threads in this warp: 32, or fewer at the end of a block
  int arrived = 0;
  unsigned generation = 0;
  unsigned long long slots[kWarpSize];
};

class Scheduler;
inline Warp* this_warp = nullptr;
// How the scheduler interleaves warps. false: round robin, every thread runs to its next barrier in turn, so warps
// stay within a barrier or two of each other. true: the lowest warp that can move runs until it waits at a barrier
// only other warps can release, so warps run as far ahead as the block barriers allow — a shared buffer refilled
// without a __syncthreads after its last readers is then overwritten while slower warps still read it.
inline bool warps_run_ahead = false;
inline int block_arrived = 0;
inline unsigned block_generation = 0;
void yield_to_scheduler();
int live_threads();

inline unsigned full_mask() {
  return this_warp->size == kWarpSize ? 0xffffffffu : (1u << this_warp->size) - 1u;
}

inline void check_mask(unsigned mask, const char* what) {
  if (mask != full_mask()) {
    std::fprintf(stderr, "emulation: %s with mask %#x, not the warp's full mask %#x\n", what, mask, full_mask());
    std::abort();
  }
}

inline int lane_id() { return static_cast<int>((threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z)) % kWarpSize); }

inline void warp_barrier() {
  Warp& w = *this_warp;
  const unsigned generation = w.generation;
  if (++w.arrived == w.size) {
    w.arrived = 0;
    ++w.generation;
    return;
  }
  while (w.generation == generation) yield_to_scheduler();
}

// Threads that have returned count as arrived: a GPU lets the rest of a block synchronise after some warps exit.
inline void block_barrier() {
  const unsigned generation = block_generation;
  if (++block_arrived == live_threads()) {
    block_arrived = 0;
    ++block_generation;
    return;
  }
  while (block_generation == generation) yield_to_scheduler();
}

// Every lane publishes x, the warp meets, each reads lane `source(lane)`'s value, the warp meets again (so that a
// slot is not overwritten before every lane has read it).
template <typename T, typename Source>
T exchange(unsigned mask, T x, Source source, const char* what) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= sizeof(unsigned long long));
  check_mask(mask, what);
  const int lane = lane_id();
  std::memcpy(&this_warp->slots[lane], &x, sizeof(T));
  warp_barrier();
  T y;
  std::memcpy(&y, &this_warp->slots[source(lane)], sizeof(T));
  warp_barrier();
  return y;
}

}  // namespace emulation

// Source lanes as the PTX shfl instructions define them, within segments of `width` lanes; a source outside the
// segment (or the warp) returns the thread's own value.
template <typename T>
T __shfl_sync(unsigned mask, T x, int src, int width = 32) {
  return emulation::exchange(mask, x, [&](int lane) {
    const int s = (lane & ~(width - 1)) + (src & (width - 1));
    return s < emulation::this_warp->size ? s : lane;
  }, "__shfl_sync");
}
template <typename T>
T __shfl_xor_sync(unsigned mask, T x, int offset, int width = 32) {
  return emulation::exchange(mask, x, [&](int lane) {
    const int s = lane ^ offset;
    return (s & ~(width - 1)) == (lane & ~(width - 1)) && s < emulation::this_warp->size ? s : lane;
  }, "__shfl_xor_sync");
}
template <typename T>
T __shfl_down_sync(unsigned mask, T x, unsigned delta, int width = 32) {
  return emulation::exchange(mask, x, [&](int lane) {
    const int s = lane + static_cast<int>(delta);
    return (s & ~(width - 1)) == (lane & ~(width - 1)) && s < emulation::this_warp->size ? s : lane;
  }, "__shfl_down_sync");
}
template <typename T>
T __shfl_up_sync(unsigned mask, T x, unsigned delta, int width = 32) {
  return emulation::exchange(mask, x, [&](int lane) {
    const int s = lane - static_cast<int>(delta);
    return s >= (lane & ~(width - 1)) ? s : lane;
  }, "__shfl_up_sync");
}

inline unsigned __ballot_sync(unsigned mask, int predicate) {
  unsigned result = 0;
  for (int l = 0; l < emulation::this_warp->size; ++l) {
    // Each lane's predicate, gathered one lane at a time (a handful of barriers; fine for an emulation).
    const int p = __shfl_sync(mask, predicate ? 1 : 0, l);
    result |= static_cast<unsigned>(p) << l;
  }
  return result;
}
inline int __any_sync(unsigned mask, int predicate) { return __ballot_sync(mask, predicate) != 0; }
inline int __all_sync(unsigned mask, int predicate) { return __ballot_sync(mask, predicate) == mask; }
inline void __syncwarp(unsigned mask = 0xffffffffu) {
  emulation::check_mask(mask == 0xffffffffu ? emulation::full_mask() : mask, "__syncwarp");
  emulation::warp_barrier();
}
inline void __syncthreads() { emulation::block_barrier(); }
inline void __threadfence() {}
inline void __threadfence_block() {}
template <typename T>
T __ldg(const T* p) { return *p; }
// The device's fast division (2 ulp for divisors in [2^-126, 2^126]); exact here.
inline float __fdividef(float a, float b) { return a / b; }
inline float __int_as_float(int bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}
inline int __float_as_int(float value) {
  int bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}
// One OS thread runs every fiber and fibers switch only at barriers: a plain read-modify-write is atomic.
template <typename T>
T atomicAdd(T* address, T value) {
  const T old = *address;
  *address = old + value;
  return old;
}

// Defines the array behind a kernel's `extern __shared__ T name[];` in namespace `ns`, without making it the one
// emulation::launch fills and checks (a program with several such arrays sets emulation::dynamic_shared per launch).
#define CUDA_EMULATION_DYNAMIC_SHARED_ARRAY(ns, T, name)                                                            \
  namespace ns {                                                                                                    \
  alignas(16) thread_local T name[emulation::kMaxDynamicShared / sizeof(T)];                                        \
  }

// Defines the dynamic shared memory a kernel declares as `extern __shared__ T name[];` in namespace `ns`.
#define CUDA_EMULATION_DYNAMIC_SHARED(ns, T, name)                                                                  \
  CUDA_EMULATION_DYNAMIC_SHARED_ARRAY(ns, T, name)                                                                  \
  [[maybe_unused]] static const bool cuda_emulation_dynamic_shared_registered_ = [] {                               \
    emulation::dynamic_shared = {reinterpret_cast<unsigned char*>(ns::name), sizeof ns::name};                      \
    return true;                                                                                                    \
  }()

namespace emulation {

// Runs the threads of one block as fibers until every one has returned.
class Scheduler {
 public:
  static Scheduler& instance() {
    static Scheduler scheduler;
    return scheduler;
  }

  void run_block(dim3 block, const std::function<void()>& job) {
    const int threads = static_cast<int>(blockDim.count());
    if (threads < 1 || threads > 1024) {
      std::fprintf(stderr, "emulation: a block of %d threads\n", threads);
      std::abort();
    }
    if (threads > threads_) {
      stacks_.reset(new char[static_cast<size_t>(threads) * kStackBytes]);  // uninitialised: only touched as used
      fibers_.resize(threads);
      finished_.resize(threads);
      fiber_jumps_.resize(threads);
      started_.resize(threads);
      threads_ = threads;
    }
    blockIdx = block;
    job_ = &job;
    const int warps = (threads + kWarpSize - 1) / kWarpSize;
    warps_.assign(warps, Warp{});
    for (int w = 0; w < warps; ++w) warps_[w].size = threads - w * kWarpSize < kWarpSize ? threads - w * kWarpSize : kWarpSize;
    block_arrived = 0;
    block_generation = 0;
    for (int t = 0; t < threads; ++t) {
      getcontext(&fibers_[t]);
      fibers_[t].uc_stack.ss_sp = stacks_.get() + static_cast<size_t>(t) * kStackBytes;
      fibers_[t].uc_stack.ss_size = kStackBytes;
      fibers_[t].uc_link = nullptr;  // entry() never returns: it jumps back to the scheduler
      makecontext(&fibers_[t], &Scheduler::entry, 0);
      finished_[t] = false;
      started_[t] = false;
    }
    live_ = threads;
    long long idle_rounds = 0;
    while (live_ > 0) {
      const unsigned long long before = progress();
      unsigned long long warp_start = 0;
      for (int t = 0; t < threads; ++t) {
        if (t % kWarpSize == 0) warp_start = progress();
        if (!finished_[t]) resume(t);
        // Warps in turn (warps_run_ahead): after a warp that moved, the round starts again from warp 0.
        const bool warp_end = t % kWarpSize == kWarpSize - 1 || t == threads - 1;
        if (warps_run_ahead && warp_end && progress() != warp_start) t = -1;
      }
      // A block barrier waits for the live threads: one that returned may have completed it for the others.
      if (block_arrived > 0 && block_arrived == live_) {
        block_arrived = 0;
        ++block_generation;
      }
      idle_rounds = progress() == before && live_ > 0 ? idle_rounds + 1 : 0;
      if (idle_rounds > 2) {
        std::printf("deadlock: threads wait at a shuffle, __syncwarp or __syncthreads the others never reach\n");
        std::exit(2);
      }
    }
  }

  void yield() {
    if (_setjmp(fiber_jumps_[current_].buf) == 0) _longjmp(scheduler_jump_, 1);
  }

  // Runs thread t until it waits at a barrier or returns.
  void resume(int t) {
    current_ = t;
    threadIdx = {t % blockDim.x, (t / blockDim.x) % blockDim.y, t / (blockDim.x * blockDim.y)};
    this_warp = &warps_[t / kWarpSize];
    returned_ = false;
    // A fiber starts through swapcontext and from then on switches with _setjmp/_longjmp, which skip
    // swapcontext's signal-mask system call: the warp-matrix emulations switch fibers millions of times.
    if (_setjmp(scheduler_jump_) == 0) {
      if (!started_[t]) {
        started_[t] = true;
        swapcontext(&scheduler_, &fibers_[t]);
      } else {
        _longjmp(fiber_jumps_[t].buf, 1);
      }
    }
    if (returned_) {
      finished_[t] = true;
      --live_;
    }
  }
  int live() const { return live_; }

 private:
  static constexpr size_t kStackBytes = 128 * 1024;

  static void entry() {
    (*instance().job_)();
    instance().returned_ = true;
    _longjmp(instance().scheduler_jump_, 1);
  }

  unsigned long long progress() const {
    unsigned long long sum = block_generation * 4096ull + block_arrived;
    for (const auto& w : warps_) sum += w.generation * 64ull + w.arrived;
    for (int t = 0; t < threads_; ++t) sum += finished_[t] ? 1 : 0;
    return sum;
  }

  std::unique_ptr<char[]> stacks_;
  ucontext_t scheduler_{};
  std::vector<ucontext_t> fibers_;
  std::vector<char> finished_;
  std::vector<Warp> warps_;
  int threads_ = 0;
  int live_ = 0;
  int current_ = 0;
  bool returned_ = false;
  jmp_buf scheduler_jump_;
  struct Jump {
    jmp_buf buf;
  };
  std::vector<Jump> fiber_jumps_;
  std::vector<char> started_;
  const std::function<void()>* job_ = nullptr;
};

inline void yield_to_scheduler() { Scheduler::instance().yield(); }
inline int live_threads() { return Scheduler::instance().live(); }

// The NaN pattern: 0x7fc0 repeated is a quiet NaN as float, Half and bfloat16.
constexpr uint16_t kSharedFill = 0x7fc0;
// Bytes past the launched size that are filled and checked for stray writes.
constexpr size_t kSharedGuard = 64 * 1024;

struct LaunchResult {
  bool shared_overrun = false;  // some block wrote past the dynamic shared memory it was launched with
};

// Launches `kernel` (a call of the entry point with its arguments) over `grid` × `block` with `dynamic_shared_bytes`
// of dynamic shared memory, blocks in order x fastest.
inline LaunchResult launch(dim3 grid, dim3 block, size_t dynamic_shared_bytes, const std::function<void()>& kernel) {
  LaunchResult result;
  if (dynamic_shared_bytes > dynamic_shared.capacity) {
    std::fprintf(stderr, "emulation: %zu bytes of dynamic shared memory launched, %zu defined\n", dynamic_shared_bytes,
                 dynamic_shared.capacity);
    std::abort();
  }
  gridDim = grid;
  blockDim = block;
  uint16_t* words = reinterpret_cast<uint16_t*>(dynamic_shared.bytes);
  const size_t filled = (dynamic_shared_bytes + kSharedGuard < dynamic_shared.capacity
                             ? dynamic_shared_bytes + kSharedGuard : dynamic_shared.capacity) / 2;
  for (unsigned z = 0; z < grid.z; ++z) {
    for (unsigned y = 0; y < grid.y; ++y) {
      for (unsigned x = 0; x < grid.x; ++x) {
        for (size_t n = 0; n < filled; ++n) words[n] = kSharedFill;
        Scheduler::instance().run_block({x, y, z}, kernel);
        for (size_t n = dynamic_shared_bytes / 2; n < filled; ++n) {
          if (words[n] != kSharedFill) {
            result.shared_overrun = true;
            break;
          }
        }
      }
    }
  }
  return result;
}

}  // namespace emulation
