// CUDA on the host, for the emulations in this folder: a kernel's own .cu source compiled as host C++, each CUDA
// thread of a block a fiber (ucontext).
//
// Fibers switch only at barriers — every warp-synchronous primitive (shuffles, votes, __syncwarp) is a warp barrier,
// __syncthreads a block barrier — so between two barriers a thread runs alone, as if every other thread had done its
// part before or will do it after: the weakest ordering the CUDA memory model promises within a barrier interval.
// A barrier that not every lane of a warp (or thread of the block) reaches is reported as a deadlock.
//
// Blocks of a grid are interleaved as a GPU's resident blocks are, not run one after another: up to
// LaunchOptions::resident_blocks of them are resident at once, each on an OS thread of its own (its own thread_local
// `__shared__` memory, as each block has its own shared memory), and exactly one of those threads runs at a time:
// the running block hands over to the next resident one, round robin, whenever a __syncthreads completes and when it
// returns. Blocks are dispatched last first, so that a kernel which assumes block b − 1 finished before block b
// started (or any order at all between blocks) reads what those blocks have not written yet.
//
// What a kernel may use:
//   threadIdx, blockIdx, blockDim, gridDim (dim3); float2/float4/uint2/uint4/int4;
//   __shfl_sync, __shfl_xor_sync, __shfl_up_sync, __shfl_down_sync (any trivially copyable type of at most 8 bytes,
//   width 1..32), __ballot_sync, __any_sync, __all_sync, __syncwarp, __syncthreads, __threadfence, __ldg, atomicAdd;
//   `__shared__ T x[N];` at block scope: one copy per resident block (thread_local), not zeroed between blocks — as
//   on a GPU, a kernel must write before it reads;
//   `extern __shared__ T name[];` dynamic shared memory: the emulation defines it once with
//   CUDA_EMULATION_DYNAMIC_SHARED(namespace, T, name) before including the kernel; emulation::launch fills it with
//   a NaN pattern before each block (reads before writes show up as NaN) and reports writes past the size launched.
// `__grid_constant__` (an entry point's parameter struct, kept in the kernel's parameter space on a GPU) is defined
// away: on the host the struct is an ordinary by-value parameter.
// Warp-synchronous primitives take the full mask of the warp (a warp with fewer than 32 threads, at the end of a
// block, has fewer bits); any other mask is a fault — none of our kernels diverge around a shuffle.
//
// A kernel that does what a GPU would stop it for — a misaligned or out-of-range access (memory_checks.hpp), a
// deadlock, a partial mask — raises a fault (emulation::raise_fault): the launch stops at once, and launch() returns
// the report (kernel, block, thread, what and where). Programs without a device print it and exit with status 3.
//
// Device math (expf, tanhf, exp2f, logf, __fdividef, ex2.approx) carries the error the CUDA documentation allows it
// (device_math_emulation.hpp), not the host's correctly rounded results.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <pthread.h>

#include <cmath>
#include <condition_variable>
#include <csetjmp>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
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

// Plain globals, not thread_local: only one OS thread runs kernel code at a time, and the scheduler sets them for
// the fiber it resumes.
inline dim3 threadIdx, blockIdx, blockDim, gridDim;

// The vector types a kernel may load and store 8 or 16 bytes at a time through. Their copies are member by member,
// not the memcpy of a trivial copy: a copy from or to memory binds a reference to (or calls a member on) the vector,
// which -fsanitize=alignment checks against the type's alignment, its size — as a GPU's ld/st .v2/.v4 require
// (memory_checks.hpp).
#define CUDA_EMULATION_VECTOR2(name, T, bytes)                                                                      \
  struct alignas(bytes) name {                                                                                      \
    T x, y;                                                                                                         \
    name() = default;                                                                                               \
    constexpr name(T x_, T y_) : x(x_), y(y_) {}                                                                    \
    name(const name& o) : x(o.x), y(o.y) {}                                                                         \
    name& operator=(const name& o) {                                                                                \
      x = o.x;                                                                                                      \
      y = o.y;                                                                                                      \
      return *this;                                                                                                 \
    }                                                                                                               \
  };
#define CUDA_EMULATION_VECTOR4(name, T)                                                                             \
  struct alignas(16) name {                                                                                         \
    T x, y, z, w;                                                                                                   \
    name() = default;                                                                                               \
    constexpr name(T x_, T y_, T z_, T w_) : x(x_), y(y_), z(z_), w(w_) {}                                          \
    name(const name& o) : x(o.x), y(o.y), z(o.z), w(o.w) {}                                                         \
    name& operator=(const name& o) {                                                                                \
      x = o.x;                                                                                                      \
      y = o.y;                                                                                                      \
      z = o.z;                                                                                                      \
      w = o.w;                                                                                                      \
      return *this;                                                                                                 \
    }                                                                                                               \
  };
CUDA_EMULATION_VECTOR2(float2, float, 8)
CUDA_EMULATION_VECTOR2(uint2, unsigned, 8)
CUDA_EMULATION_VECTOR2(int2, int, 8)
CUDA_EMULATION_VECTOR4(float4, float)
CUDA_EMULATION_VECTOR4(uint4, unsigned)
CUDA_EMULATION_VECTOR4(int4, int)
#undef CUDA_EMULATION_VECTOR2
#undef CUDA_EMULATION_VECTOR4
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

// ---- Faults ---------------------------------------------------------------------------------------------------------

// What a GPU reports for each (CUDA_ERROR_ILLEGAL_ADDRESS, CUDA_ERROR_MISALIGNED_ADDRESS, CUDA_ERROR_LAUNCH_FAILED).
enum class FaultKind { kIllegalAddress, kMisalignedAddress, kLaunchFailed };

inline const char* fault_name(FaultKind kind) {
  switch (kind) {
    case FaultKind::kIllegalAddress: return "illegal address";
    case FaultKind::kMisalignedAddress: return "misaligned address";
    default: return "launch failure";
  }
}

// A program without a device prints a fault's report and exits with status 3; the emulated device turns it into the
// launch's CUDA error instead (device/cuda_driver.cpp clears this).
inline bool exit_on_fault = true;

// Stops the running launch with a fault raised by the thread that runs now (its block and thread are named in the
// report); outside a launch, prints it and exits. `format` says what happened and where.
[[noreturn]] void raise_fault(FaultKind kind, const char* format, ...) __attribute__((format(printf, 2, 3)));

// ---- Blocks, warps and the scheduler --------------------------------------------------------------------------------

// The dynamic shared memory a launch uses: the calling OS thread's copy of the kernel's `extern __shared__` array.
struct DynamicShared {
  unsigned char* bytes = nullptr;
  size_t capacity = 0;
};
// Returns the calling thread's copy of the array a launch fills and checks; set by CUDA_EMULATION_DYNAMIC_SHARED, or
// by the emulated device before each launch (each kernel family has its own array).
inline DynamicShared (*dynamic_shared_source)() = nullptr;
// The running block's copy (each resident block runs on an OS thread of its own).
inline thread_local DynamicShared dynamic_shared;

struct Warp {
  int size = kWarpSize;  // threads in this warp: 32, or fewer at the end of a block
  int arrived = 0;
  unsigned generation = 0;
  unsigned long long slots[kWarpSize];
};

// How the scheduler interleaves warps. false: round robin, every thread runs to its next barrier in turn, so warps
// stay within a barrier or two of each other. true: the lowest warp that can move runs until it waits at a barrier
// only other warps can release, so warps run as far ahead as the block barriers allow — a shared buffer refilled
// without a __syncthreads after its last readers is then overwritten while slower warps still read it.
inline bool warps_run_ahead = false;

// State changes the scheduler cannot see through its barriers (an mbarrier arrival or tx completion, a named
// barrier's arrival: hopper_emulation.hpp) count here, so that a block whose threads all spin on try_wait without any
// of them changing counts as deadlocked; `deadlock_detail` (when set) says what they wait for in the report.
inline thread_local unsigned long long async_progress = 0;
inline std::string (*deadlock_detail)() = nullptr;

class Slot;
inline Slot* active = nullptr;  // the resident block whose OS thread runs now
inline Warp* this_warp = nullptr;

void yield_to_scheduler();
void block_barrier();

inline unsigned full_mask() {
  return this_warp->size == kWarpSize ? 0xffffffffu : (1u << this_warp->size) - 1u;
}

inline void check_mask(unsigned mask, const char* what) {
  if (mask != full_mask()) {
    raise_fault(FaultKind::kLaunchFailed, "%s with mask %#x, not the warp's full mask %#x", what, mask, full_mask());
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
// One OS thread at a time runs kernel code and fibers switch only at barriers: a plain read-modify-write is atomic.
template <typename T>
T atomicAdd(T* address, T value) {
  const T old = *address;
  *address = old + value;
  return old;
}

// Defines the array behind a kernel's `extern __shared__ T name[];` in namespace `ns`, without making it the one
// emulation::launch fills and checks (a program with several such arrays sets emulation::dynamic_shared_source per
// launch). thread_local: each resident block's OS thread has its own.
#define CUDA_EMULATION_DYNAMIC_SHARED_ARRAY(ns, T, name)                                                            \
  namespace ns {                                                                                                    \
  alignas(16) thread_local T name[emulation::kMaxDynamicShared / sizeof(T)];                                        \
  }

// Defines the dynamic shared memory a kernel declares as `extern __shared__ T name[];` in namespace `ns`.
#define CUDA_EMULATION_DYNAMIC_SHARED(ns, T, name)                                                                  \
  CUDA_EMULATION_DYNAMIC_SHARED_ARRAY(ns, T, name)                                                                  \
  [[maybe_unused]] static const bool cuda_emulation_dynamic_shared_registered_ = [] {                               \
    emulation::dynamic_shared_source = [] {                                                                         \
      return emulation::DynamicShared{reinterpret_cast<unsigned char*>(ns::name), sizeof ns::name};                 \
    };                                                                                                              \
    return true;                                                                                                    \
  }()

namespace emulation {

// The NaN pattern: 0x7fc0 repeated is a quiet NaN as float, Half and bfloat16.
constexpr uint16_t kSharedFill = 0x7fc0;
// Bytes past the launched size that are filled and checked for stray writes.
constexpr size_t kSharedGuard = 64 * 1024;

struct LaunchOptions {
  const char* kernel = "kernel";  // named in fault reports
  int resident_blocks = 4;        // blocks interleaved at once (at least 1)
};

struct LaunchResult {
  bool shared_overrun = false;  // some block wrote past the dynamic shared memory it was launched with
  bool faulted = false;
  FaultKind fault = FaultKind::kLaunchFailed;
  std::string report;  // the fault's report: kernel, block, thread, what and where
};

// One launch's dispatcher: the blocks in dispatch order, which resident block runs, and the first fault.
struct Grid {
  std::mutex mutex;
  std::condition_variable turn_changed;
  int turn = 0;
  std::vector<char> resident;  // per slot: still has blocks to run
  std::vector<dim3> order;
  size_t next_block = 0;
  const std::function<void()>* kernel = nullptr;
  size_t shared_bytes = 0;
  const char* name = "kernel";
  bool aborted = false;
  LaunchResult result;
};
inline Grid* grid = nullptr;  // the launch under way

// A memory fault a signal handler caught (the emulated device's guard pages) on the running block's thread: the
// handler records it and leaves the launch (Slot::abort); the slot reports it from there, outside the handler.
struct SignalFault {
  bool pending = false;
  bool write = false;
  uintptr_t address = 0;
  dim3 block, thread;
};
inline SignalFault signal_fault;
// Says what an address is (which allocation it falls in or near), for fault reports; set by the emulated device.
inline std::string (*describe_address)(uintptr_t address) = nullptr;

void record_fault(FaultKind kind, const std::string& report);

// One resident block at a time, on an OS thread of its own: its threads as fibers, its warps and its barrier.
class Slot {
 public:
  explicit Slot(int index) : index_(index) {}

  // Runs blocks from the grid's dispatch order until none is left or the launch aborts.
  void serve() {
    thread_ = pthread_self();
    dynamic_shared = dynamic_shared_source != nullptr ? dynamic_shared_source() : DynamicShared{};
    if (grid->shared_bytes > dynamic_shared.capacity) {
      std::fprintf(stderr, "emulation: %zu bytes of dynamic shared memory launched, %zu defined\n", grid->shared_bytes,
                   dynamic_shared.capacity);
      std::abort();
    }
    if (sigsetjmp(abort_jump_, 1) == 0) {
      wait_for_turn();
      for (;;) {
        dim3 block;
        {
          std::lock_guard lock(grid->mutex);
          if (grid->next_block == grid->order.size()) break;
          block = grid->order[grid->next_block++];
        }
        run_block(block);
        hand_over();
      }
    } else if (signal_fault.pending) {
      report_signal_fault();
    }
    // Done, or a fault (ours or another block's) stopped the launch: leave the rotation.
    std::lock_guard lock(grid->mutex);
    grid->resident[index_] = 0;
    pass_turn_locked();
  }

  // Fiber side: back to this slot's scheduler loop.
  void yield() {
    if (_setjmp(fiber_jumps_[current_].buf) == 0) _longjmp(scheduler_jump_, 1);
  }

  // Leaves the launch after a fault (from a fiber, the scheduler loop or a signal handler on this thread).
  [[noreturn]] void abort() { siglongjmp(abort_jump_, 1); }

  bool runs_on_this_thread() const { return pthread_equal(thread_, pthread_self()) != 0; }
  int live() const { return live_; }

  int block_arrived = 0;
  unsigned block_generation = 0;

 private:
  static constexpr size_t kStackBytes = 128 * 1024;

  void run_block(dim3 block) {
    const int threads = static_cast<int>(blockDim.count());
    if (threads < 1 || threads > 1024) raise_fault(FaultKind::kLaunchFailed, "a block of %d threads", threads);
    if (threads > threads_) {
      stacks_.reset(new char[static_cast<size_t>(threads) * kStackBytes]);  // uninitialised: only touched as used
      fibers_.resize(threads);
      finished_.resize(threads);
      fiber_jumps_.resize(threads);
      started_.resize(threads);
      threads_ = threads;
    }
    block_ = block;
    blockIdx = block;
    fill_shared();
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
      makecontext(&fibers_[t], &Slot::entry, 0);
      finished_[t] = false;
      started_[t] = false;
    }
    live_ = threads;
    long long idle_rounds = 0;
    while (live_ > 0) {
      const unsigned long long before = progress();
      const unsigned generation = block_generation;
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
        const std::string detail = deadlock_detail != nullptr ? deadlock_detail() : std::string();
        raise_fault(FaultKind::kLaunchFailed,
                    "deadlock: threads wait at a shuffle, __syncwarp or __syncthreads the others never reach, or "
                    "at a barrier that never completes%s",
                    detail.c_str());
      }
      // A __syncthreads completed: the next resident block runs up to its own next one.
      if (block_generation != generation && live_ > 0) hand_over();
    }
    check_shared();
  }

  // Runs thread t until it waits at a barrier or returns.
  void resume(int t) {
    current_ = t;
    threadIdx = {t % blockDim.x, (t / blockDim.x) % blockDim.y, t / (blockDim.x * blockDim.y)};
    blockIdx = block_;
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

  static void entry() {
    Slot& self = *active;
    (*grid->kernel)();
    self.returned_ = true;
    _longjmp(self.scheduler_jump_, 1);
  }

  unsigned long long progress() const {
    unsigned long long sum = block_generation * 4096ull + block_arrived + async_progress;
    for (const auto& w : warps_) sum += w.generation * 64ull + w.arrived;
    for (int t = 0; t < threads_; ++t) sum += finished_[t] ? 1 : 0;
    return sum;
  }

  void fill_shared() {
    uint16_t* words = reinterpret_cast<uint16_t*>(dynamic_shared.bytes);
    for (size_t n = 0; n < filled_words(); ++n) words[n] = kSharedFill;
  }

  void check_shared() {
    const uint16_t* words = reinterpret_cast<const uint16_t*>(dynamic_shared.bytes);
    for (size_t n = grid->shared_bytes / 2; n < filled_words(); ++n) {
      if (words[n] != kSharedFill) {
        grid->result.shared_overrun = true;
        return;
      }
    }
  }

  size_t filled_words() const {
    const size_t guarded = grid->shared_bytes + kSharedGuard;
    return (guarded < dynamic_shared.capacity ? guarded : dynamic_shared.capacity) / 2;
  }

  void report_signal_fault() {
    const SignalFault f = signal_fault;
    signal_fault.pending = false;
    const std::string where = describe_address != nullptr ? describe_address(f.address) : std::string();
    char report[1024];
    std::snprintf(report, sizeof report, "%s: %s at %#llx%s%s in block (%u, %u, %u), thread (%u, %u, %u)", grid->name,
                  f.write ? "write" : "read", static_cast<unsigned long long>(f.address), where.empty() ? "" : ": ",
                  where.c_str(), f.block.x, f.block.y, f.block.z, f.thread.x, f.thread.y, f.thread.z);
    record_fault(FaultKind::kIllegalAddress, report);
  }

  // Lets the next resident block run (round robin), and waits for this one's turn again.
  void hand_over() {
    std::unique_lock lock(grid->mutex);
    pass_turn_locked();
    lock.unlock();
    wait_for_turn();
  }

  void pass_turn_locked() {
    const int slots = static_cast<int>(grid->resident.size());
    for (int step = 1; step <= slots; ++step) {
      const int next = (index_ + step) % slots;
      if (grid->resident[next] || step == slots) {
        grid->turn = next;
        break;
      }
    }
    grid->turn_changed.notify_all();
  }

  void wait_for_turn() {
    std::unique_lock lock(grid->mutex);
    grid->turn_changed.wait(lock, [&] { return grid->turn == index_; });
    const bool aborted = grid->aborted;
    lock.unlock();
    active = this;
    if (aborted) abort();
  }

  int index_;
  pthread_t thread_{};
  sigjmp_buf abort_jump_;
  dim3 block_;
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
};

inline void yield_to_scheduler() { active->yield(); }

// Whether the calling thread runs a block of a launch now.
inline bool running_kernel() { return grid != nullptr && active != nullptr && active->runs_on_this_thread(); }

// Threads that have returned count as arrived: a GPU lets the rest of a block synchronise after some warps exit.
inline void block_barrier() {
  Slot& slot = *active;
  const unsigned generation = slot.block_generation;
  if (++slot.block_arrived == slot.live()) {
    slot.block_arrived = 0;
    ++slot.block_generation;
    return;
  }
  while (slot.block_generation == generation) yield_to_scheduler();
}

inline void raise_fault(FaultKind kind, const char* format, ...) {
  char what[768];
  va_list args;
  va_start(args, format);
  std::vsnprintf(what, sizeof what, format, args);
  va_end(args);
  char report[1024];
  std::snprintf(report, sizeof report, "%s: %s in block (%u, %u, %u), thread (%u, %u, %u)",
                grid != nullptr ? grid->name : "kernel", what, blockIdx.x, blockIdx.y, blockIdx.z, threadIdx.x,
                threadIdx.y, threadIdx.z);
  if (!running_kernel()) {
    std::printf("emulation: %s: %s\n", fault_name(kind), report);
    std::fflush(stdout);
    std::exit(3);
  }
  record_fault(kind, report);
  active->abort();
}

// The launch's first fault stops it: every resident block leaves at its next turn.
inline void record_fault(FaultKind kind, const std::string& report) {
  std::lock_guard lock(grid->mutex);
  if (!grid->aborted) {
    grid->aborted = true;
    grid->result.faulted = true;
    grid->result.fault = kind;
    grid->result.report = report;
  }
}

// The slots (their fiber stacks), kept from one launch to the next.
inline std::vector<std::unique_ptr<Slot>>& slot_pool() {
  static std::vector<std::unique_ptr<Slot>> pool;
  return pool;
}

// Launches `kernel` (a call of the entry point with its arguments) over `grid` × `block` with `dynamic_shared_bytes`
// of dynamic shared memory, up to options.resident_blocks blocks interleaved (last block dispatched first). Returns
// when every block has returned or a fault stopped the launch; a fault is printed and exits the program where
// exit_on_fault is set.
inline LaunchResult launch(dim3 grid_dims, dim3 block, size_t dynamic_shared_bytes, const std::function<void()>& kernel,
                           const LaunchOptions& options = {}) {
  Grid state;
  state.kernel = &kernel;
  state.shared_bytes = dynamic_shared_bytes;
  state.name = options.kernel;
  const unsigned blocks = grid_dims.count();
  state.order.reserve(blocks);
  for (unsigned n = blocks; n-- > 0;) {
    state.order.push_back(dim3(n % grid_dims.x, (n / grid_dims.x) % grid_dims.y, n / (grid_dims.x * grid_dims.y)));
  }
  const int slots = static_cast<int>(std::min<unsigned>(blocks, static_cast<unsigned>(std::max(options.resident_blocks, 1))));
  state.resident.assign(slots, 1);
  gridDim = grid_dims;
  blockDim = block;
  grid = &state;
  auto& pool = slot_pool();
  while (static_cast<int>(pool.size()) < slots) pool.push_back(std::make_unique<Slot>(static_cast<int>(pool.size())));
  std::vector<std::thread> threads;
  threads.reserve(slots);
  for (int s = 0; s < slots; ++s) {
    threads.emplace_back([&pool, s] { pool[s]->serve(); });
  }
  for (std::thread& t : threads) t.join();
  grid = nullptr;
  active = nullptr;
  if (state.result.faulted && exit_on_fault) {
    std::printf("emulation: %s: %s\n", fault_name(state.result.fault), state.result.report.c_str());
    std::fflush(stdout);
    std::exit(3);
  }
  return state.result;
}

}  // namespace emulation

#include "emulation/memory_checks.hpp"
#include "emulation/device_math_emulation.hpp"
