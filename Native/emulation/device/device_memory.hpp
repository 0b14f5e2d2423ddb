// The emulated device's memory: every cuMemAlloc gets pages of its own in one reserved stretch of address space (the
// arena), between inaccessible guard gaps, so that a kernel's access outside its allocations faults as on a GPU —
// and more precisely than a GPU, whose pages are 64 KiB to 2 MiB:
//   - past the end or before the start: the gaps are 2 MiB of PROT_NONE pages; an allocation ends at the end of its
//     last page, rounded to 256 bytes as cuMemAlloc aligns it, and the fewer than 256 bytes after its end (and the
//     rest of its first page before its start) hold a canary that is checked after every kernel (writes there are
//     reported; reads see the 0xff fill, a NaN);
//   - freed memory: a freed allocation's pages become PROT_NONE and its addresses are never handed out again;
//   - host pointers: a launch's parameter pointer that is not device memory is replaced by an address in a PROT_NONE
//     window standing for it (kernel_params.hpp), so that the kernel's first access through it faults, reported with
//     the host address it had.
// Faults arrive as SIGSEGV on the running block's thread; the handler (install_fault_handler) records the address and
// stops the launch (cuda_fiber_runtime.hpp), and passes every other SIGSEGV on to the handler it replaced (the .NET
// runtime's: null references).
#pragma once

#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace device {

constexpr uintptr_t kPage = 4096;
constexpr uintptr_t kAllocationAlignment = 256;  // what cuMemAlloc guarantees
constexpr uintptr_t kGuardGap = 2u << 20;        // PROT_NONE between allocations
constexpr unsigned char kFill = 0xff;            // fresh memory and canaries: NaN as float, Half and bfloat16
constexpr uintptr_t kTrapSlot = 16ull << 30;     // address space standing for one host pointer
constexpr int kTrapSlots = 64;

inline uintptr_t round_up(uintptr_t x, uintptr_t to) { return (x + to - 1) / to * to; }

struct Allocation {
  uintptr_t start = 0;   // what cuMemAlloc returned
  size_t bytes = 0;      // what it was asked for
  uintptr_t pages = 0;   // the accessible pages [pages, end)
  uintptr_t end = 0;
};

class DeviceMemory {
 public:
  // Reserves the arena and the host-pointer window (once); false where the address space cannot be had.
  bool reserve() {
    if (arena_ != 0) return true;
    for (uintptr_t size = 1ull << 40; size >= 16ull << 30 && arena_ == 0; size /= 2) {
      void* p = mmap(nullptr, size + kTrapSlot * kTrapSlots, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                     -1, 0);
      if (p == MAP_FAILED) continue;
      arena_ = reinterpret_cast<uintptr_t>(p);
      arena_size_ = size;
      trap_ = arena_ + size;
      next_ = arena_ + kGuardGap;
    }
    return arena_ != 0;
  }

  // New memory filled with 0xff (reads before writes show NaN); 0 where the arena is used up.
  uintptr_t allocate(size_t bytes) {
    const uintptr_t data = round_up(bytes, kAllocationAlignment);
    const uintptr_t span = round_up(data, kPage);
    if (next_ + span + kGuardGap > arena_ + arena_size_) return 0;
    Allocation a;
    a.pages = next_;
    a.end = next_ + span;
    a.start = a.end - data;
    a.bytes = bytes;
    if (mprotect(reinterpret_cast<void*>(a.pages), span, PROT_READ | PROT_WRITE) != 0) return 0;
    std::memset(reinterpret_cast<void*>(a.pages), kFill, span);
    next_ = a.end + kGuardGap;
    live_[a.start] = a;
    return a.start;
  }

  // Frees a live allocation's pages for good (they stay reserved and inaccessible); false for any other address.
  bool free(uintptr_t start) {
    auto it = live_.find(start);
    if (it == live_.end()) return false;
    const Allocation a = it->second;
    madvise(reinterpret_cast<void*>(a.pages), a.end - a.pages, MADV_DONTNEED);
    mprotect(reinterpret_cast<void*>(a.pages), a.end - a.pages, PROT_NONE);
    live_.erase(it);
    freed_[a.start] = a;
    return true;
  }

  // The live allocation holding [address, address + bytes), or null.
  const Allocation* live_range(uintptr_t address, size_t bytes) const {
    auto it = live_.upper_bound(address);
    if (it == live_.begin()) return nullptr;
    --it;
    const Allocation& a = it->second;
    return address >= a.start && address + bytes <= a.start + a.bytes ? &a : nullptr;
  }

  bool in_arena(uintptr_t address) const { return address >= arena_ && address < arena_ + arena_size_; }
  bool in_trap_window(uintptr_t address) const {
    return address >= trap_ && address < trap_ + kTrapSlot * kTrapSlots;
  }
  const std::map<uintptr_t, Allocation>& live() const { return live_; }

  // A PROT_NONE address standing for host pointer `host` (same low bits, so alignment checks see the same address).
  uintptr_t trap_for(uintptr_t host) {
    for (size_t slot = 0; slot < trapped_.size(); ++slot) {
      if (trapped_[slot] == host) return trap_base(slot, host);
    }
    if (trapped_.size() == kTrapSlots) trapped_.erase(trapped_.begin());  // the oldest stand-ins are forgotten
    trapped_.push_back(host);
    return trap_base(trapped_.size() - 1, host);
  }

  // Where an address lies, for a fault report: relative to the nearest allocation, or a host pointer's stand-in.
  std::string describe(uintptr_t address) const {
    char text[256];
    if (in_trap_window(address)) {
      const size_t slot = (address - trap_) / kTrapSlot;
      const uintptr_t host = slot < trapped_.size() ? trapped_[slot] : 0;
      const uintptr_t actual = host + (address - trap_base(slot, host));
      std::snprintf(text, sizeof text,
                    "host address %#llx: a parameter of the launch held host pointer %#llx, not device memory",
                    static_cast<unsigned long long>(actual), static_cast<unsigned long long>(host));
      return text;
    }
    if (!in_arena(address)) return "not device memory (a host or null pointer)";
    const Allocation* live = nearest(live_, address);
    const Allocation* freed = nearest(freed_, address);
    const bool was_freed = freed != nullptr && (live == nullptr || freed->start > live->start);
    const Allocation* before = was_freed ? freed : live;
    if (before != nullptr && address < before->start + before->bytes) {
      std::snprintf(text, sizeof text, "%llu bytes into the %zu-byte allocation at %#llx%s",
                    static_cast<unsigned long long>(address - before->start), before->bytes,
                    static_cast<unsigned long long>(before->start), was_freed ? ", which was freed" : "");
      return text;
    }
    const Allocation* after = following(address);
    if (before != nullptr && (after == nullptr || address - (before->start + before->bytes) < after->start - address)) {
      std::snprintf(text, sizeof text, "%llu bytes past the end of the %zu-byte allocation at %#llx%s",
                    static_cast<unsigned long long>(address - (before->start + before->bytes)), before->bytes,
                    static_cast<unsigned long long>(before->start), was_freed ? " (freed)" : "");
      return text;
    }
    if (after != nullptr) {
      std::snprintf(text, sizeof text, "%llu bytes before the %zu-byte allocation at %#llx",
                    static_cast<unsigned long long>(after->start - address), after->bytes,
                    static_cast<unsigned long long>(after->start));
      return text;
    }
    return "in the device's address range, outside every allocation";
  }

  // Canary bytes a kernel overwrote around its allocations (the parts of their pages outside [start, start + bytes)):
  // one line per allocation, empty when none. The canaries are restored.
  std::string overwritten_canaries() {
    std::string report;
    for (const auto& [start, a] : live_) {
      const auto* page = reinterpret_cast<unsigned char*>(a.pages);
      const uintptr_t after = a.start + a.bytes;
      for (uintptr_t p = a.pages; p < a.end; ++p) {
        if (p >= a.start && p < after) {
          p = after - 1;
          continue;
        }
        if (page[p - a.pages] == kFill) continue;
        char line[200];
        std::snprintf(line, sizeof line, "%s%s at %#llx, %llu bytes %s the %zu-byte allocation at %#llx",
                      report.empty() ? "" : "; ", "a write", static_cast<unsigned long long>(p),
                      static_cast<unsigned long long>(p < a.start ? a.start - p : p - after),
                      p < a.start ? "before" : "past the end of", a.bytes, static_cast<unsigned long long>(a.start));
        report += line;
        std::memset(reinterpret_cast<void*>(a.pages), kFill, a.start - a.pages);
        std::memset(reinterpret_cast<void*>(after), kFill, a.end - after);
        break;
      }
    }
    return report;
  }

 private:
  uintptr_t trap_base(size_t slot, uintptr_t host) const {
    return trap_ + slot * kTrapSlot + kTrapSlot / 2 + (host & (kPage - 1));
  }

  static const Allocation* nearest(const std::map<uintptr_t, Allocation>& map, uintptr_t address) {
    auto it = map.upper_bound(address);
    if (it == map.begin()) return nullptr;
    return &std::prev(it)->second;
  }

  const Allocation* following(uintptr_t address) const {
    const Allocation* best = nullptr;
    for (const auto* map : {&live_, &freed_}) {
      auto it = map->upper_bound(address);
      if (it != map->end() && (best == nullptr || it->second.start < best->start)) best = &it->second;
    }
    return best;
  }

  uintptr_t arena_ = 0, arena_size_ = 0, trap_ = 0, next_ = 0;
  std::map<uintptr_t, Allocation> live_, freed_;
  std::vector<uintptr_t> trapped_;
};

// ---- SIGSEGV -----------------------------------------------------------------------------------------------------------

inline struct sigaction previous_segv_action;

// A fault on the thread running a block is the kernel's: recorded, and the launch stops. Anything else goes to the
// handler this one replaced.
inline void on_segv(int signal, siginfo_t* info, void* context) {
  if (emulation::running_kernel()) {
    emulation::SignalFault& f = emulation::signal_fault;
    f.pending = true;
    f.address = reinterpret_cast<uintptr_t>(info->si_addr);
    // x86-64's page-fault error code: bit 1 set for a write.
    f.write = (static_cast<ucontext_t*>(context)->uc_mcontext.gregs[REG_ERR] & 2) != 0;
    f.block = blockIdx;
    f.thread = threadIdx;
    emulation::active->abort();
  }
  if (previous_segv_action.sa_flags & SA_SIGINFO) {
    previous_segv_action.sa_sigaction(signal, info, context);
  } else if (previous_segv_action.sa_handler != SIG_DFL && previous_segv_action.sa_handler != SIG_IGN) {
    previous_segv_action.sa_handler(signal);
  } else {
    struct sigaction fallback = {};
    fallback.sa_handler = SIG_DFL;
    sigaction(SIGSEGV, &fallback, nullptr);  // the access repeats and ends the process as it would have
  }
}

inline void install_fault_handler() {
  static bool installed = false;
  if (installed) return;
  installed = true;
  struct sigaction action = {};
  action.sa_sigaction = &on_segv;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  sigaction(SIGSEGV, &action, &previous_segv_action);
}

}  // namespace device
