// Host emulation of the Hopper primitives of Native/hopper/hopper_ptx.cuh (included from there when
// ATTENTION_EMULATION is defined), for the fiber emulations (cuda_fiber_runtime.hpp). Each follows the PTX ISA's
// definition and faults (emulation::raise_fault) where the ISA leaves the outcome undefined:
//
// mbarrier   per barrier: the arrival count of init, pending arrivals, the tx-count and the phase. A phase completes
//            when its pending arrivals and its tx-count reach 0; try_wait.parity(P) is true once the phase of parity P
//            has completed (so P = 1 passes on a fresh barrier). A barrier used before init (or whose 8 bytes were
//            overwritten by ordinary stores), more arrivals than the count in one phase, and copies completing more
//            bytes than the phase expects are faults; a phase that can never complete (expect-tx bytes that no copy
//            brings) makes every waiting thread spin without progress, which the runtime reports as a deadlock with
//            each incomplete barrier's state — never a hang.
// TMA        cp.async.bulk.tensor.{2,3,4}d reads its tensor map (tensor_map.hpp, written by the emulated
//            cuTensorMapEncodeTiled), copies the box (elements outside the tensor zero, or NaN with the NaN fill) into
//            shared memory in the map's swizzle, and completes the box's bytes on the mbarrier. The copy lands as late
//            as a GPU allows: when a thread next polls that barrier, so a kernel reading the tile without waiting
//            reads the shared memory's NaN fill or the previous tile (or, with tma_lands_at_issue, at once, so that a
//            producer refilling a stage still being read overwrites it). A copy onto a barrier whose init was not
//            followed by fence.mbarrier_init is a fault. Stores (shared -> global, bulk groups) read the box and
//            write the tensor (skipping elements outside it) when cp.async.bulk.wait_group[.read] retires their group.
// wgmma      a warpgroup (4 consecutive warps, the first a multiple of 4) issues m64nNk16 together; every warp's
//            descriptors, shape and scale must agree with its warpgroup's. Each thread's accumulators follow the
//            ISA's fragment layout (row 16w + l/4 (+8), columns 8j + 2(l%4) (+1)); A and B are read from shared
//            memory through the matrix descriptor (canonical K-major and MN-major layouts, no swizzle / 32B / 64B /
//            128B, the swizzle applied to the shared-memory address bits as the hardware does) or, for RS, A from
//            the warp's registers. Asynchronous: nothing happens at issue except that the accumulators become NaN;
//            wgmma.wait_group lets the other threads run, then computes the groups it retires (reading shared memory
//            then) and writes the results back. A wgmma with no wgmma.fence since the thread last waited (or since
//            the kernel began), and accumulators written while their wgmma is in flight, are faults. (The ISA asks for the fence between a
//            register access and the next wgmma on those registers; the emulation cannot see register accesses, so
//            it asks for one after every wait_group, as CUTLASS and FlashAttention-3 issue one before every batch.)
// proxies    shared memory has a second copy, the async proxy's view: fence.proxy.async publishes the generic
//            writes to it (all of them: the emulation does not track which thread wrote what), TMA loads write both.
//            A wgmma operand or TMA store byte whose two views differ was written by an ordinary store after the last
//            fence.proxy.async (or while the operation was in flight): a fault. Stores of the value already there
//            are invisible to this check, and harmless.
// setmaxnreg 24..256 and a multiple of 8 (static_assert), the same value and direction for every warp of the
//            warpgroup, inc never below and dec never above the warpgroup's current limit, and the block's total
//            within the SM's 64K registers when every warpgroup has set its limit.
// bar        named barriers 1..15 with a thread count (a multiple of 32): sync waits for the count, arrive does not;
//            every participant of one use must name the same count.
//
// Shared addresses are offsets into the block's dynamic shared memory (its base stands for a 1024-byte aligned
// address); operands of TMA and wgmma must lie there. State is per block, kept on the block's OS thread.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "attention_common.cuh"  // to_float
#include "emulation/tensor_map.hpp"

namespace emulation {
namespace hopper {

using attention::hopper::Major;
using attention::hopper::Swizzle;
using attention::hopper::TensorMap;

inline uint32_t shared_offset(const void* p, size_t bytes, const char* what) {
  const auto* c = static_cast<const unsigned char*>(p);
  if (c < dynamic_shared.bytes || c + bytes > dynamic_shared.bytes + grid->shared_bytes) {
    raise_fault(FaultKind::kIllegalAddress,
                "%s of %zu bytes at %p, outside the block's %zu bytes of dynamic shared memory", what, bytes, p,
                grid->shared_bytes);
  }
  return static_cast<uint32_t>(c - dynamic_shared.bytes);
}

// The swizzle of a shared-memory byte address (Swizzle<B,4,3> of the PTX ISA's canonical layouts): the 16-byte chunk
// index (bits 4..4+B) XOR the 128-byte row index (bits 7..7+B), B = 1, 2, 3 for 32B, 64B, 128B.
inline uint32_t swizzle_address(uint32_t address, int span_bytes) {
  const uint32_t bits = span_bytes == 128 ? 7u : span_bytes == 64 ? 3u : span_bytes == 32 ? 1u : 0u;
  return address ^ (((address >> 7) & bits) << 4);
}

inline int swizzle_span(Swizzle s) {
  switch (s) {
    case Swizzle::k128B:
      return 128;
    case Swizzle::k64B:
      return 64;
    case Swizzle::k32B:
      return 32;
    default:
      return 0;
  }
}

struct Mbarrier {
  int count = 0;                          // arrivals per phase (init)
  int pending = 0;                        // arrivals still missing in the current phase
  long long tx = 0;                       // the current phase's tx-count: expected minus completed bytes
  long long expected = 0, completed = 0;  // this phase's expect-tx and complete-tx totals, for reports
  unsigned phase = 0;                     // completed phases
  bool init_fenced = false;
  int waiting_for = -1;  // the parity a thread's last try_wait found incomplete (-1: none since a success)
};

struct PendingTma {
  uint64_t* bar;
  uint32_t dst;  // shared address
  EncodedTensorMap map;
  int coordinates[5];
};

struct PendingStore {
  EncodedTensorMap map;
  uint32_t src;  // shared address
  int coordinates[5];
};

struct WgmmaOp {
  int n = 0;
  bool bf16 = false, a_in_registers = false;
  Major major_a = Major::kK, major_b = Major::kK;
  uint64_t desc_a = 0, desc_b = 0;
  bool scale_d = false;
  float* d = nullptr;
  uint16_t a_rows[2][16];  // RS: this thread's two A rows (row l/4 and l/4 + 8 of its warp), from the warp's registers
};

// A record of one warp's issue, compared across the four warps of a warpgroup.
struct WarpgroupRecord {
  int n;
  bool bf16, a_in_registers;
  uint64_t desc_a, desc_b;
  bool scale_d;
  bool operator==(const WarpgroupRecord&) const = default;
};

struct WarpgroupLog {
  std::deque<WarpgroupRecord> records;
  unsigned long long base = 0;
  unsigned long long issued[4] = {};
  std::deque<int> setmaxnreg;  // signed: +inc, -dec, compared the same way
  unsigned long long setmaxnreg_base = 0, setmaxnreg_issued[4] = {};
  int registers = 0;  // the limit set by setmaxnreg; 0 until the first one
};

struct ThreadState {
  bool fenced = false;  // a wgmma.fence since the last wait_group (or the kernel's start)
  std::vector<WgmmaOp> open;
  std::deque<std::vector<WgmmaOp>> committed;
  std::map<float*, std::vector<float>> shadow;  // accumulators in flight: their true values (the registers hold NaN)
  std::vector<PendingStore> stores_open;        // TMA stores since the last cp.async.bulk.commit_group
  std::deque<std::vector<PendingStore>> stores_committed;
};

struct NamedBarrier {
  int count = 0, arrived = 0;
  unsigned generation = 0;
};

struct BlockState {
  dim3 block{~0u, ~0u, ~0u};
  std::vector<unsigned char> async_view;  // the async proxy's view of the dynamic shared memory
  std::map<const void*, Mbarrier> barriers;
  std::vector<PendingTma> copies;
  std::vector<ThreadState> threads;
  std::vector<WarpgroupLog> warpgroups;
  NamedBarrier named[16];
  std::vector<uint32_t> rs_exchange;  // per thread: 4 A registers (RS)
};

inline thread_local BlockState block_state;

// When TMA loads land: when a thread next polls their barrier (false, the default: a kernel that reads a tile without
// waiting for it reads stale data), or at issue (true: a producer that refills a stage the consumers still read,
// without waiting for them to release it, overwrites it under their in-flight wgmmas). A launch picks one, as
// emulation::copies_land_at_issue does for cp.async.
inline bool tma_lands_at_issue = false;

inline std::string describe_barriers();

// The running block's state, new for each block: its async view starts as the runtime's NaN fill.
inline BlockState& state() {
  BlockState& s = block_state;
  if (s.block.x != blockIdx.x || s.block.y != blockIdx.y || s.block.z != blockIdx.z) {
    s = BlockState{};
    s.block = blockIdx;
    s.async_view.resize(grid->shared_bytes);
    for (size_t i = 0; i + 1 < s.async_view.size(); i += 2) std::memcpy(&s.async_view[i], &kSharedFill, 2);
    s.threads.resize(blockDim.count());
    s.warpgroups.resize((blockDim.count() + 127) / 128);
    s.rs_exchange.resize(blockDim.count() * 4);
    deadlock_detail = &describe_barriers;
  }
  return s;
}

inline int thread_rank() {
  return static_cast<int>(threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z));
}

inline std::string describe_barriers() {
  std::string out;
  for (const auto& [address, b] : block_state.barriers) {
    if (b.pending == b.count && b.tx == 0) {
      if (b.waiting_for < 0) continue;
      // At rest, yet polled: the waiters want a phase parity the barrier will not reach without another arrival.
      char line[256];
      std::snprintf(line, sizeof line,
                    "; mbarrier %p: threads wait for the phase of parity %d, and it is at rest in phase %u (nothing "
                    "pending: a phase skipped or waited for twice)",
                    address, b.waiting_for, b.phase);
      out += line;
      continue;
    }
    int copies = 0;
    for (const PendingTma& copy : block_state.copies) copies += copy.bar == address ? 1 : 0;
    char line[384];
    std::snprintf(line, sizeof line,
                  "; mbarrier %p phase %u never completes: %d of %d arrivals missing, tx-count %lld (expect-tx %lld "
                  "bytes, copies completed %lld, %d more issued)",
                  address, b.phase, b.pending, b.count, b.tx, b.expected, b.completed, copies);
    out += line;
  }
  return out;
}

// ---- mbarrier -------------------------------------------------------------------------------------------------------

inline uint64_t barrier_word(const void* bar) { return 0x4d42415252494552ull ^ reinterpret_cast<uintptr_t>(bar); }

inline Mbarrier& barrier(uint64_t* bar, const char* what) {
  check_aligned_access(bar, 8, 8, what);
  BlockState& s = state();
  auto it = s.barriers.find(bar);
  if (it == s.barriers.end())
    raise_fault(FaultKind::kLaunchFailed, "%s on %p, which no mbarrier.init initialised", what, bar);
  if (*bar != barrier_word(bar)) {
    raise_fault(FaultKind::kLaunchFailed, "%s on %p, whose 8 bytes ordinary stores overwrote after mbarrier.init", what,
                bar);
  }
  return it->second;
}

inline void complete_phase_if_done(Mbarrier& b) {
  if (b.pending == 0 && b.tx == 0) {
    ++b.phase;
    b.pending = b.count;
    b.expected = b.completed = 0;
  }
  ++async_progress;
}

inline void arrive(Mbarrier& b, const void* bar) {
  if (b.pending == 0) {
    raise_fault(FaultKind::kLaunchFailed,
                "mbarrier %p: an arrival beyond its count of %d in phase %u (the phase waits for %lld tx bytes)", bar,
                b.count, b.phase, b.tx);
  }
  --b.pending;
  complete_phase_if_done(b);
}

inline void expect_tx(Mbarrier& b, uint32_t bytes, const void* bar) {
  if (bytes >= (1u << 20))
    raise_fault(FaultKind::kLaunchFailed, "mbarrier %p: expect-tx of %u bytes, over 2^20 - 1", bar, bytes);
  b.tx += bytes;
  b.expected += bytes;
  ++async_progress;
}

inline void complete_tx(Mbarrier& b, uint32_t bytes, const void* bar) {
  b.tx -= bytes;
  b.completed += bytes;
  if (b.pending == 0 && b.tx < 0) {
    raise_fault(FaultKind::kLaunchFailed,
                "mbarrier %p phase %u: copies completed %lld bytes, more than its expect-tx of %lld (a wrong expect-tx "
                "byte count)",
                bar, b.phase, b.completed, b.expected);
  }
  complete_phase_if_done(b);
}

// ---- TMA
// --------------------------------------------------------------------------------------------------------------

// Visits every element of a map's box at `coordinates` whose shared copy starts at `base`: f(shared address, global
// address or nullptr outside the tensor). Returns the box's bytes.
template <typename F>
inline size_t for_each_box_element(const EncodedTensorMap& map, const int* coordinates, uint32_t base, const char* what,
                                   F f) {
  const int e = map.element_bytes;
  const int span = tensor_map_swizzle_span(map.swizzle);
  int extent[5] = {1, 1, 1, 1, 1};
  size_t total = 1;
  for (int d = 0; d < map.rank; ++d) {
    extent[d] = (box_extent(map, d) + map.element_stride[d] - 1) / map.element_stride[d];
    total *= static_cast<size_t>(extent[d]);
  }
  const size_t row_bytes = static_cast<size_t>(extent[0]) * e;
  if (span != 0 && row_bytes != static_cast<size_t>(span)) {
    raise_fault(FaultKind::kLaunchFailed,
                "%s: a %d-byte swizzled box row narrower than its %d-byte span (the emulation models rows of the full "
                "span only)",
                what, static_cast<int>(row_bytes), span);
  }
  const size_t bytes = total * e;
  if (base + bytes > grid->shared_bytes) {
    raise_fault(FaultKind::kIllegalAddress, "%s: a %zu-byte box at shared address %u overruns the %zu bytes launched",
                what, bytes, base, grid->shared_bytes);
  }
  for (size_t i = 0; i < total; ++i) {
    size_t rest = i;
    bool inside = true;
    const unsigned char* global = static_cast<const unsigned char*>(map.global_address);
    for (int d = 0; d < map.rank; ++d) {
      const long long j = static_cast<long long>(rest % extent[d]);
      rest /= extent[d];
      const long long coordinate = coordinates[d] + j * map.element_stride[d];
      if (coordinate < 0 || coordinate >= static_cast<long long>(map.global_dim[d])) inside = false;
      global += coordinate * static_cast<long long>(map.global_stride[d]);
    }
    const uint32_t linear = static_cast<uint32_t>(base + i * e);
    f(span != 0 ? swizzle_address(linear, span) : linear, inside ? global : nullptr);
  }
  return bytes;
}

inline void land(BlockState& s, const PendingTma& copy) {
  const EncodedTensorMap& map = copy.map;
  const int e = map.element_bytes;
  // Each element from the tensor, or the fill outside it, into both views of shared memory.
  auto write = [&](uint32_t address, const unsigned char* src) {
    unsigned char element[8] = {};
    if (src != nullptr) {
      std::memcpy(element, src, e);
    } else if (map.nan_fill) {
      if (e == 2) std::memcpy(element, &kSharedFill, 2);
      if (e == 4) std::memcpy(element, "\x00\x00\xc0\x7f", 4);
      if (e == 8) std::memcpy(element, "\x00\x00\x00\x00\x00\x00\xf8\x7f", 8);
    }
    std::memcpy(dynamic_shared.bytes + address, element, e);
    std::memcpy(&s.async_view[address], element, e);
  };
  const size_t bytes = for_each_box_element(map, copy.coordinates, copy.dst, "TMA load", write);
  complete_tx(barrier(copy.bar, "cp.async.bulk.tensor completion"), static_cast<uint32_t>(bytes), copy.bar);
}

// A TMA store's read of its box (through the async proxy: every byte as fence.proxy.async published it) and its
// writes to the tensor, elements outside it skipped.
inline void store(BlockState& s, const PendingStore& st) {
  const int e = st.map.element_bytes;
  for_each_box_element(st.map, st.coordinates, st.src, "TMA store", [&](uint32_t address, const unsigned char* dst) {
    if (std::memcmp(dynamic_shared.bytes + address, &s.async_view[address], e) != 0) {
      raise_fault(FaultKind::kLaunchFailed,
                  "a TMA store reads shared address %u, written by ordinary stores after the last fence.proxy.async "
                  "(a missing fence.proxy.async, or a store before cp.async.bulk.wait_group.read)",
                  address);
    }
    if (dst != nullptr) std::memcpy(const_cast<unsigned char*>(dst), dynamic_shared.bytes + address, e);
  });
}

// Lands the copies that complete on `bar`, oldest first.
inline void land_copies(BlockState& s, const uint64_t* bar) {
  for (size_t i = 0; i < s.copies.size();) {
    if (s.copies[i].bar == bar) {
      const PendingTma copy = s.copies[i];
      s.copies.erase(s.copies.begin() + static_cast<std::ptrdiff_t>(i));
      land(s, copy);
    } else {
      ++i;
    }
  }
}

inline EncodedTensorMap read_map(const TensorMap* map_bytes, int rank, const char* what) {
  EncodedTensorMap map;
  std::memcpy(&map, map_bytes, sizeof map);
  if (map.magic != EncodedTensorMap::kMagic) {
    raise_fault(FaultKind::kLaunchFailed, "%s with a tensor map cuTensorMapEncodeTiled did not write", what);
  }
  if (map.rank != rank) raise_fault(FaultKind::kLaunchFailed, "%s.%dd with a rank-%d tensor map", what, rank, map.rank);
  return map;
}

// A box's shared address: 128-byte aligned, 1024 with the 128B swizzle.
inline uint32_t box_address(const void* p, const EncodedTensorMap& map, const char* what) {
  const size_t alignment = tensor_map_swizzle_span(map.swizzle) == 128 ? 1024 : 128;
  const uint32_t offset = shared_offset(p, 16, what);
  if (offset % alignment != 0) {
    raise_fault(FaultKind::kMisalignedAddress, "%s at shared address %u: not %zu-byte aligned", what, offset,
                alignment);
  }
  return offset;
}

inline void tma_load(void* dst, const TensorMap* map_bytes, uint64_t* bar, int rank, const int* coordinates) {
  BlockState& s = state();
  const EncodedTensorMap map = read_map(map_bytes, rank, "cp.async.bulk.tensor");
  const uint32_t offset = box_address(dst, map, "cp.async.bulk.tensor destination");
  Mbarrier& b = barrier(bar, "cp.async.bulk.tensor");
  if (!b.init_fenced) {
    raise_fault(FaultKind::kLaunchFailed,
                "cp.async.bulk.tensor completes on mbarrier %p, whose init no fence.mbarrier_init made visible to the "
                "async proxy",
                static_cast<void*>(bar));
  }
  PendingTma copy{bar, offset, map, {}};
  for (int d = 0; d < rank; ++d) copy.coordinates[d] = coordinates[d];
  ++async_progress;
  if (tma_lands_at_issue) {
    land(s, copy);
  } else {
    s.copies.push_back(copy);
  }
}

// Commits the operations issued since the last commit as one group (wgmma.commit_group, cp.async.bulk.commit_group).
template <typename Op>
inline void close_group(std::vector<Op>& open, std::deque<std::vector<Op>>& committed) {
  committed.push_back(std::move(open));
  open.clear();
}

inline void tma_store(const TensorMap* map_bytes, const void* src, int rank, const int* coordinates) {
  BlockState& s = state();
  PendingStore st{read_map(map_bytes, rank, "cp.async.bulk.tensor (store)"), 0, {}};
  st.src = box_address(src, st.map, "cp.async.bulk.tensor store source");
  for (int d = 0; d < rank; ++d) st.coordinates[d] = coordinates[d];
  s.threads[thread_rank()].stores_open.push_back(st);
}

inline void tma_store_wait(int pending) {
  BlockState& s = state();
  ThreadState& self = s.threads[thread_rank()];
  while (self.stores_committed.size() > static_cast<size_t>(pending)) {
    for (const PendingStore& st : self.stores_committed.front()) store(s, st);
    self.stores_committed.pop_front();
  }
}

// ---- wgmma
// ------------------------------------------------------------------------------------------------------------

struct Descriptor {
  uint32_t start, leading, stride, base_offset;
  Swizzle swizzle;
};

inline Descriptor decode(uint64_t d) {
  return {static_cast<uint32_t>(d & 0x3FFF) << 4, static_cast<uint32_t>((d >> 16) & 0x3FFF) << 4,
          static_cast<uint32_t>((d >> 32) & 0x3FFF) << 4, static_cast<uint32_t>((d >> 49) & 0x7),
          static_cast<Swizzle>((d >> 62) & 0x3)};
}

// The shared address of element (mn, k) (k < 16, 2-byte elements) of an operand, by the PTX ISA's canonical layouts
// (in units of 16-byte chunks, T = 8 elements):
//   K-major   none: ((8,m),(T,2k)):((1T,SBO),(1,LBO))   swizzled (span W): ((8,m),(T,2k)):((W/16·T,SBO),(1,T))
//   MN-major  none: ((T,1,m),(8,k)):((1,T,SBO),(1T,LBO)) swizzled: ((T,W/16,m),(8,k)):((1,T,LBO),(W/16·T,SBO))
// then the swizzle of the address bits.
inline uint32_t operand_address(const Descriptor& d, Major major, int mn, int k) {
  const int span = swizzle_span(d.swizzle);
  uint32_t offset;
  if (major == Major::kK) {
    offset = span == 0 ? (mn % 8) * 16 + (mn / 8) * d.stride + (k / 8) * d.leading + (k % 8) * 2
                       : (mn % 8) * span + (mn / 8) * d.stride + k * 2;
  } else {
    const int per_row = span == 0 ? 8 : span / 2;  // elements of one row of the pattern along MN
    offset = span == 0 ? (mn % 8) * 2 + (mn / 8) * d.stride + (k % 8) * 16 + (k / 8) * d.leading
                       : (mn % per_row) * 2 + (mn / per_row) * d.leading + (k % 8) * span + (k / 8) * d.stride;
  }
  const uint32_t address = d.start + offset;
  return span == 0 ? address : swizzle_address(address, span);
}

inline float element_value(uint16_t bits, bool bf16) {
  return bf16 ? attention::to_float(*reinterpret_cast<const __nv_bfloat16*>(&bits))
              : attention::to_float(*reinterpret_cast<const __half*>(&bits));
}

// Reads one operand element through the async proxy: both views of shared memory must agree.
inline uint16_t read_operand(BlockState& s, const Descriptor& d, Major major, int mn, int k, const char* which) {
  const uint32_t address = operand_address(d, major, mn, k);
  if (address + 2 > grid->shared_bytes) {
    raise_fault(FaultKind::kIllegalAddress,
                "wgmma operand %s element (%d, %d) at shared address %u, past the %zu bytes launched", which, mn, k,
                address, grid->shared_bytes);
  }
  uint16_t generic, async;
  std::memcpy(&generic, dynamic_shared.bytes + address, 2);
  std::memcpy(&async, &s.async_view[address], 2);
  if (generic != async) {
    raise_fault(FaultKind::kLaunchFailed,
                "wgmma reads operand %s at shared address %u, written by ordinary stores after the last "
                "fence.proxy.async (a missing fence.proxy.async, or a store while the wgmma was in flight)",
                which, address);
  }
  return generic;
}

// Base offset 0 says the swizzle pattern (8 rows of the span) starts on its boundary (1024, 512, 256 bytes): the
// start address must then lie in the pattern's first row (a k-slice of a tile moves it within that row). The
// emulation models aligned tiles only, so a non-zero base offset is a fault rather than a guess.
inline void check_descriptor(const Descriptor& d, const char* which) {
  if (d.base_offset != 0) {
    raise_fault(FaultKind::kLaunchFailed,
                "wgmma descriptor %s with base offset %u: the emulation models tiles aligned to their swizzle pattern "
                "(base offset 0) only",
                which, d.base_offset);
  }
  const uint32_t span = static_cast<uint32_t>(swizzle_span(d.swizzle));
  if (span != 0 && d.start % (8 * span) >= span) {
    raise_fault(FaultKind::kMisalignedAddress,
                "wgmma descriptor %s: start address %u is not in the first row of a %u-byte aligned %uB swizzle "
                "pattern, and its base offset is 0",
                which, d.start, 8 * span, span);
  }
}

// Computes one op for the calling thread into `acc` (its N/2 accumulators).
inline void execute(BlockState& s, const WgmmaOp& op, float* acc) {
  const int t = thread_rank() % 128, w = t / 32, l = t % 32;
  const int rows[2] = {16 * w + l / 4, 16 * w + l / 4 + 8};
  const Descriptor da = decode(op.desc_a), db = decode(op.desc_b);
  if (!op.a_in_registers) check_descriptor(da, "A");
  check_descriptor(db, "B");
  float a[2][16], b[128][16];
  for (int r = 0; r < 2; ++r) {
    for (int k = 0; k < 16; ++k) {
      a[r][k] = element_value(op.a_in_registers ? op.a_rows[r][k] : read_operand(s, da, op.major_a, rows[r], k, "A"),
                              op.bf16);
    }
  }
  // This thread's N/4 columns of B: 8j + 2(l % 4) and the one after, for j < N/8.
  for (int c = 0; c < op.n / 4; ++c) {
    const int column = 8 * (c / 2) + 2 * (l % 4) + c % 2;
    for (int k = 0; k < 16; ++k) b[c][k] = element_value(read_operand(s, db, op.major_b, column, k, "B"), op.bf16);
  }
  for (int i = 0; i < op.n / 2; ++i) {
    const int r = (i / 2) % 2, c = 2 * (i / 4) + i % 2;
    float sum = op.scale_d ? acc[i] : 0.0f;
    for (int k = 0; k < 16; ++k) sum += a[r][k] * b[c][k];
    acc[i] = sum;
  }
}

inline void check_warpgroup(const char* what) {
  const int t = thread_rank();
  if (static_cast<unsigned>((t / 128 + 1) * 128) > blockDim.count()) {
    raise_fault(FaultKind::kLaunchFailed,
                "%s by thread %d, whose warpgroup (threads %d..%d) the block of %u does not fill", what, t,
                t / 128 * 128, t / 128 * 128 + 127, blockDim.count());
  }
}

// Lane 0 of each warp logs the warp's issue; the four warps of a warpgroup must log the same sequence.
inline void log_issue(BlockState& s, const WarpgroupRecord& record) {
  const int t = thread_rank();
  if (t % 32 != 0) return;
  WarpgroupLog& log = s.warpgroups[t / 128];
  const int w = (t / 32) % 4;
  const unsigned long long index = log.issued[w]++;
  if (index - log.base >= log.records.size()) {
    log.records.push_back(record);
  } else if (!(log.records[index - log.base] == record)) {
    const WarpgroupRecord& other = log.records[index - log.base];
    raise_fault(FaultKind::kLaunchFailed,
                "wgmma %llu of warpgroup %d: warp %d issued m64n%dk16 (A %#llx, B %#llx, scale-d %d), another warp "
                "m64n%dk16 (A %#llx, B %#llx, scale-d %d): the warps of a warpgroup issue one wgmma together",
                index, t / 128, w, record.n, static_cast<unsigned long long>(record.desc_a),
                static_cast<unsigned long long>(record.desc_b), record.scale_d, other.n,
                static_cast<unsigned long long>(other.desc_a), static_cast<unsigned long long>(other.desc_b),
                other.scale_d);
  }
  unsigned long long least = log.issued[0];
  for (unsigned long long n : log.issued) least = n < least ? n : least;
  while (log.base < least && !log.records.empty()) {
    log.records.pop_front();
    ++log.base;
  }
}

template <int N, typename T>
inline void issue(float* d, const uint32_t* a_registers, uint64_t desc_a, uint64_t desc_b, uint32_t scale_d,
                  Major major_a, Major major_b) {
  static_assert(N == 64 || N == 96 || N == 128 || N == 192 || N == 256,
                "hopper_ptx.cuh defines wgmma m64nNk16 for N = 64, 96, 128, 192, 256");
  check_warpgroup("wgmma.mma_async");
  BlockState& s = state();
  const int t = thread_rank();
  ThreadState& self = s.threads[t];
  if (!self.fenced) {
    raise_fault(FaultKind::kLaunchFailed,
                "wgmma.mma_async without a wgmma.fence since the warpgroup last touched its registers (kernel start or "
                "wgmma.wait_group)");
  }
  WgmmaOp op;
  op.n = N;
  op.bf16 = std::is_same_v<T, __nv_bfloat16>;
  op.a_in_registers = a_registers != nullptr;
  op.major_a = major_a;
  op.major_b = major_b;
  op.desc_a = a_registers != nullptr ? 0 : desc_a;
  op.desc_b = desc_b;
  op.scale_d = scale_d != 0;
  op.d = d;
  // Warp-uniform operands: every lane publishes its descriptors and scale (RS: its A registers) and checks lane 0's.
  const int lane = lane_id();
  if (a_registers != nullptr) std::memcpy(&s.rs_exchange[4 * t], a_registers, 16);
  this_warp->slots[lane] = op.desc_b ^ (op.desc_a * 3) ^ (op.scale_d ? 1ull << 63 : 0);
  warp_barrier();
  if (this_warp->slots[lane] != this_warp->slots[0]) {
    raise_fault(FaultKind::kLaunchFailed, "wgmma.mma_async: lane %d's descriptors or scale-d differ from lane 0's",
                lane);
  }
  if (a_registers != nullptr) {
    // The m64k16 A fragment: lane 4g + q holds rows g, g + 8 at columns 2q, 2q + 1 (registers 0, 1) and 2q + 8, 2q + 9
    // (registers 2, 3).
    const int warp_base = t - lane;
    for (int r = 0; r < 2; ++r) {
      for (int q = 0; q < 4; ++q) {
        const uint32_t* regs = &s.rs_exchange[4 * (warp_base + 4 * (lane / 4) + q)];
        for (int half = 0; half < 2; ++half) {
          const uint32_t reg = regs[r + 2 * half];
          op.a_rows[r][2 * q + 8 * half] = static_cast<uint16_t>(reg & 0xffff);
          op.a_rows[r][2 * q + 8 * half + 1] = static_cast<uint16_t>(reg >> 16);
        }
      }
    }
  }
  warp_barrier();
  log_issue(s, {N, op.bf16, op.a_in_registers, op.desc_a, op.desc_b, op.scale_d});
  // The accumulators are the wgmma's until it retires: their values move to the shadow, the registers read NaN.
  auto shadow = self.shadow.find(d);
  if (shadow == self.shadow.end()) {
    self.shadow.emplace(d, std::vector<float>(d, d + N / 2));
  } else if (shadow->second.size() != static_cast<size_t>(N / 2)) {
    raise_fault(FaultKind::kLaunchFailed, "wgmma.mma_async m64n%dk16 on accumulators in flight with another shape", N);
  }
  for (int i = 0; i < N / 2; ++i) d[i] = std::nanf("");
  self.open.push_back(op);
}

inline void retire(BlockState& s, ThreadState& self, std::vector<WgmmaOp>& group) {
  for (const WgmmaOp& op : group) {
    auto shadow = self.shadow.find(op.d);
    execute(s, op, shadow->second.data());
  }
  // Accumulators with no op left in flight go back to the registers, which must still hold the NaN of issue.
  for (const WgmmaOp& op : group) {
    auto shadow = self.shadow.find(op.d);
    if (shadow == self.shadow.end()) continue;
    bool in_flight = false;
    for (const auto& later : self.committed) {
      for (const WgmmaOp& other : later) in_flight = in_flight || other.d == op.d;
    }
    for (const WgmmaOp& other : self.open) in_flight = in_flight || other.d == op.d;
    if (in_flight) continue;
    for (int i = 0; i < op.n / 2; ++i) {
      if (!std::isnan(op.d[i])) {
        raise_fault(FaultKind::kLaunchFailed,
                    "accumulator register %d written while its wgmma was in flight (before wgmma.wait_group)", i);
      }
    }
    std::memcpy(op.d, shadow->second.data(), sizeof(float) * op.n / 2);
    self.shadow.erase(shadow);
  }
}

}  // namespace hopper
}  // namespace emulation

namespace attention {
namespace hopper {

inline uint32_t shared_address(const void* p) { return emulation::hopper::shared_offset(p, 1, "shared address"); }

inline void mbarrier_init(uint64_t* bar, uint32_t count) {
  emulation::check_aligned_access(bar, 8, 8, "mbarrier.init");
  if (count < 1 || count >= (1u << 20)) {
    emulation::raise_fault(emulation::FaultKind::kLaunchFailed, "mbarrier.init with count %u outside 1..2^20 - 1",
                           count);
  }
  emulation::hopper::BlockState& s = emulation::hopper::state();
  emulation::hopper::Mbarrier b;
  b.count = b.pending = static_cast<int>(count);
  s.barriers[bar] = b;
  *bar = emulation::hopper::barrier_word(bar);
  ++emulation::async_progress;
}

// Publishes the barriers initialised so far to the async proxy (the emulation does not track which thread initialised
// which: fence.mbarrier_init covers the calling thread's, and kernels initialise from one thread).
inline void fence_barrier_init() {
  for (auto& [address, b] : emulation::hopper::state().barriers) b.init_fenced = true;
}

inline void mbarrier_arrive(uint64_t* bar) {
  emulation::hopper::arrive(emulation::hopper::barrier(bar, "mbarrier.arrive"), bar);
}

inline void mbarrier_expect_tx(uint64_t* bar, uint32_t bytes) {
  emulation::hopper::expect_tx(emulation::hopper::barrier(bar, "mbarrier.expect_tx"), bytes, bar);
}

inline void mbarrier_arrive_expect_tx(uint64_t* bar, uint32_t bytes) {
  emulation::hopper::Mbarrier& b = emulation::hopper::barrier(bar, "mbarrier.arrive.expect_tx");
  emulation::hopper::expect_tx(b, bytes, bar);
  emulation::hopper::arrive(b, bar);
}

// A poll: lands the copies bound for the barrier, then says whether the phase of that parity has completed; a failed
// poll lets the other threads run (a GPU's try_wait suspends the thread for a while).
inline bool mbarrier_try_wait_parity(uint64_t* bar, uint32_t phase_parity) {
  emulation::hopper::BlockState& s = emulation::hopper::state();
  emulation::hopper::barrier(bar, "mbarrier.try_wait.parity");
  emulation::hopper::land_copies(s, bar);
  emulation::hopper::Mbarrier& b = s.barriers[bar];
  if ((b.phase & 1u) != (phase_parity & 1u)) {
    b.waiting_for = -1;
    return true;
  }
  b.waiting_for = static_cast<int>(phase_parity & 1u);
  emulation::yield_to_scheduler();
  return false;
}

inline void mbarrier_wait_parity(uint64_t* bar, uint32_t phase_parity) {
  while (!mbarrier_try_wait_parity(bar, phase_parity)) {
  }
}

// Publishes the generic view of shared memory to the async proxy.
inline void fence_proxy_async_shared() {
  emulation::hopper::BlockState& s = emulation::hopper::state();
  std::memcpy(s.async_view.data(), emulation::dynamic_shared.bytes, s.async_view.size());
}

inline void tma_load_2d(void* dst, const TensorMap* map, uint64_t* bar, int c0, int c1) {
  const int c[] = {c0, c1};
  emulation::hopper::tma_load(dst, map, bar, 2, c);
}
inline void tma_load_3d(void* dst, const TensorMap* map, uint64_t* bar, int c0, int c1, int c2) {
  const int c[] = {c0, c1, c2};
  emulation::hopper::tma_load(dst, map, bar, 3, c);
}
inline void tma_load_4d(void* dst, const TensorMap* map, uint64_t* bar, int c0, int c1, int c2, int c3) {
  const int c[] = {c0, c1, c2, c3};
  emulation::hopper::tma_load(dst, map, bar, 4, c);
}

inline void tma_store_2d(const TensorMap* map, const void* src, int c0, int c1) {
  const int c[] = {c0, c1};
  emulation::hopper::tma_store(map, src, 2, c);
}
inline void tma_store_3d(const TensorMap* map, const void* src, int c0, int c1, int c2) {
  const int c[] = {c0, c1, c2};
  emulation::hopper::tma_store(map, src, 3, c);
}
inline void tma_store_4d(const TensorMap* map, const void* src, int c0, int c1, int c2, int c3) {
  const int c[] = {c0, c1, c2, c3};
  emulation::hopper::tma_store(map, src, 4, c);
}

inline void tma_store_commit() {
  emulation::hopper::ThreadState& self = emulation::hopper::state().threads[emulation::hopper::thread_rank()];
  emulation::hopper::close_group(self.stores_open, self.stores_committed);
}

// Both waits read the box and write the tensor when they retire a group: the read happens no earlier than a GPU's
// may, and a group never waited for never lands (its shared memory is gone when the block exits).
template <int kPending>
inline void tma_store_wait_read() {
  emulation::hopper::tma_store_wait(kPending);
}
template <int kPending>
inline void tma_store_wait() {
  emulation::hopper::tma_store_wait(kPending);
}

inline void wgmma_fence() {
  emulation::hopper::check_warpgroup("wgmma.fence");
  emulation::hopper::state().threads[emulation::hopper::thread_rank()].fenced = true;
}

inline void wgmma_commit() {
  emulation::hopper::ThreadState& self = emulation::hopper::state().threads[emulation::hopper::thread_rank()];
  emulation::hopper::close_group(self.open, self.committed);
}

template <int kPending>
inline void wgmma_wait() {
  emulation::hopper::BlockState& s = emulation::hopper::state();
  emulation::hopper::ThreadState& self = s.threads[emulation::hopper::thread_rank()];
  // The other threads run first, as other warps do while the tensor cores work: a stage released (or rewritten)
  // before this wait is refilled before the wgmmas reading it retire.
  if (self.committed.size() > static_cast<size_t>(kPending)) {
    ++emulation::async_progress;
    emulation::yield_to_scheduler();
  }
  while (self.committed.size() > static_cast<size_t>(kPending)) {
    std::vector<emulation::hopper::WgmmaOp> group = std::move(self.committed.front());
    self.committed.pop_front();
    emulation::hopper::retire(s, self, group);
  }
  self.fenced = false;
}

template <int kCount>
inline void fence_accumulators(float (&)[kCount]) {}

template <int N, typename T, Major kMajorA = Major::kK, Major kMajorB = Major::kK>
inline void wgmma_ss(float (&d)[N / 2], uint64_t desc_a, uint64_t desc_b, uint32_t scale_d) {
  emulation::hopper::issue<N, T>(d, nullptr, desc_a, desc_b, scale_d, kMajorA, kMajorB);
}

template <int N, typename T, Major kMajorB = Major::kK>
inline void wgmma_rs(float (&d)[N / 2], const uint32_t (&a)[4], uint64_t desc_b, uint32_t scale_d) {
  emulation::hopper::issue<N, T>(d, a, 0, desc_b, scale_d, Major::kK, kMajorB);
}

// setmaxnreg: +registers for inc, -registers for dec, logged per warp like wgmma and checked across the warpgroup.
inline void setmaxnreg(int registers, bool increase) {
  emulation::hopper::check_warpgroup("setmaxnreg");
  emulation::hopper::BlockState& s = emulation::hopper::state();
  const int t = emulation::hopper::thread_rank();
  if (t % 32 != 0) return;
  emulation::hopper::WarpgroupLog& log = s.warpgroups[t / 128];
  const int w = (t / 32) % 4, value = increase ? registers : -registers;
  const unsigned long long index = log.setmaxnreg_issued[w]++;
  if (index - log.setmaxnreg_base < log.setmaxnreg.size()) {
    if (log.setmaxnreg[index - log.setmaxnreg_base] != value) {
      emulation::raise_fault(
          emulation::FaultKind::kLaunchFailed,
          "setmaxnreg %d of warpgroup %d: warp %d asks %s %d, another warp %+d: not warpgroup-uniform",
          static_cast<int>(index), t / 128, w, increase ? "inc" : "dec", registers,
          log.setmaxnreg[index - log.setmaxnreg_base]);
    }
    return;
  }
  log.setmaxnreg.push_back(value);
  if (log.registers != 0 && (increase ? registers < log.registers : registers > log.registers)) {
    emulation::raise_fault(
        emulation::FaultKind::kLaunchFailed,
        "setmaxnreg.%s.sync.aligned.u32 %d in warpgroup %d whose limit is %d: inc may only raise, dec "
        "only lower it",
        increase ? "inc" : "dec", registers, t / 128, log.registers);
  }
  log.registers = registers;
  long long total = 0;
  for (const auto& group : s.warpgroups) {
    if (group.registers == 0) return;
    total += 128LL * group.registers;
  }
  if (total > 65536) {
    emulation::raise_fault(emulation::FaultKind::kLaunchFailed,
                           "setmaxnreg: the block's warpgroups ask for %lld registers, more than an SM's 65536 (the "
                           "inc would never be granted)",
                           total);
  }
}

template <int kRegisters>
inline void setmaxnreg_inc() {
  static_assert(kRegisters >= 24 && kRegisters <= 256 && kRegisters % 8 == 0, "setmaxnreg: 24..256, multiple of 8");
  setmaxnreg(kRegisters, true);
}
template <int kRegisters>
inline void setmaxnreg_dec() {
  static_assert(kRegisters >= 24 && kRegisters <= 256 && kRegisters % 8 == 0, "setmaxnreg: 24..256, multiple of 8");
  setmaxnreg(kRegisters, false);
}

inline void named_barrier(uint32_t id, uint32_t threads, bool wait) {
  if (id < 1 || id > 15) {
    emulation::raise_fault(emulation::FaultKind::kLaunchFailed, "named barrier %u outside 1..15 (0 is __syncthreads)",
                           id);
  }
  if (threads == 0 || threads % 32 != 0 || threads > blockDim.count()) {
    emulation::raise_fault(emulation::FaultKind::kLaunchFailed,
                           "named barrier %u with %u threads: not a positive multiple of 32 within the block's %u", id,
                           threads, blockDim.count());
  }
  emulation::hopper::NamedBarrier& b = emulation::hopper::state().named[id];
  if (b.arrived > 0 && b.count != static_cast<int>(threads)) {
    emulation::raise_fault(emulation::FaultKind::kLaunchFailed,
                           "named barrier %u used with %u threads while %d threads wait for a count of %d", id, threads,
                           b.arrived, b.count);
  }
  b.count = static_cast<int>(threads);
  ++emulation::async_progress;
  const unsigned generation = b.generation;
  if (++b.arrived == b.count) {
    b.arrived = 0;
    ++b.generation;
    return;
  }
  if (!wait) return;
  while (b.generation == generation) emulation::yield_to_scheduler();
}

inline void named_barrier_sync(uint32_t id, uint32_t threads) { named_barrier(id, threads, true); }
inline void named_barrier_arrive(uint32_t id, uint32_t threads) { named_barrier(id, threads, false); }

}  // namespace hopper
}  // namespace attention
