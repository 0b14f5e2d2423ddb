// The emulated device's streams: work (kernels, copies, fills, GEMMs, event records) is queued on its stream when the
// host issues it and runs only when the host synchronises with it — as late as a GPU may run it — so that host code
// which reads a result, reuses a buffer or times an event before the work is proven done sees what a GPU could show
// it: the data from before (fresh device memory is 0xff, a NaN), or CUDA_ERROR_NOT_READY.
//
// What runs at a synchronisation is what the host has waited for, with the ordering rules of the legacy default
// stream (CUDA's "API synchronization behavior" and "stream synchronization behavior"):
//   - a stream's work in issue order;
//   - the legacy default stream (stream 0) waits for all earlier work of the blocking streams (created without
//     CU_STREAM_NON_BLOCKING), and their work waits for earlier work of the legacy stream;
//   - non-blocking streams are ordered with nothing but themselves.
// cuStreamSynchronize and cuEventSynchronize run the work their stream or event waits for; cuCtxSynchronize, cuMemFree
// and cuModuleUnload run everything. Synchronous copies (cuMemcpyHtoD_v2, cuMemcpyDtoH_v2) are legacy-stream work
// that the host waits for; cuMemcpyDtoD_v2 and cuMemsetD8_v2 are queued on the legacy stream without a wait.
// Host memory is treated as page-locked (as the library pins every buffer a copy uses until a synchronisation): an
// asynchronous copy reads or writes it when it runs, not when it is issued.
//
// A fault while work runs (a kernel's illegal address, a GEMM outside its operands) is sticky, as on a GPU: the work
// queued after it is dropped and every later call returns the error until the primary context is released.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace device {

using CUresult = int;

struct Stream {
  bool blocking = true;  // created without CU_STREAM_NON_BLOCKING (the legacy stream counts as blocking here)
  bool legacy = false;
  bool destroyed = false;
};

struct Event {
  bool timing = true;  // created without CU_EVENT_DISABLE_TIMING
  unsigned long long recorded = 0;  // the issue number of its last record, 0 if never recorded
  bool completed = false;
  std::chrono::steady_clock::time_point time;
};

struct Work {
  unsigned long long issue = 0;
  Stream* stream = nullptr;
  std::string what;
  // Runs the work: kSuccess, or an error with its report.
  std::function<CUresult(std::string& report)> run;
};

class WorkQueue {
 public:
  WorkQueue() { legacy_.legacy = true; }

  Stream* legacy() { return &legacy_; }

  // Queues work; returns its issue number.
  unsigned long long enqueue(Stream* stream, std::string what, std::function<CUresult(std::string&)> run) {
    pending_.push_back(Work{next_issue_, stream, std::move(what), std::move(run)});
    return next_issue_++;
  }

  bool pending(unsigned long long issue) const {
    for (const Work& w : pending_) {
      if (w.issue == issue) return true;
    }
    return false;
  }

  // Runs what work on `stream` issued now would wait for (the stream's own, and the legacy stream's rules).
  CUresult synchronize_stream(Stream* stream, std::string& report) {
    return run_marked(mark(pending_.size(), stream), report);
  }

  // Runs the work the item with issue number `issue` waits for, and the item itself.
  CUresult synchronize_issue(unsigned long long issue, std::string& report) {
    for (size_t i = 0; i < pending_.size(); ++i) {
      if (pending_[i].issue == issue) {
        std::vector<char> needed = mark(i, pending_[i].stream);
        needed[i] = 1;
        return run_marked(needed, report);
      }
    }
    return 0;
  }

  CUresult synchronize_all(std::string& report) { return run_marked(std::vector<char>(pending_.size(), 1), report); }

  // Drops all queued work (after a fault, or when the context is released).
  void clear() { pending_.clear(); }

 private:
  // Marks the pending items before position `end` that work on `stream` at `end` waits for.
  std::vector<char> mark(size_t end, Stream* stream) const {
    std::vector<char> needed(pending_.size(), 0);
    std::set<const Stream*> streams{stream};
    bool legacy_waits = stream->legacy;                     // a needed legacy item later: blocking work before it
    bool blocking_waits = stream->blocking && !stream->legacy;  // a needed blocking item later: legacy work before it
    for (size_t i = end; i-- > 0;) {
      const Stream* s = pending_[i].stream;
      const bool is_needed = streams.count(s) || (s->legacy && blocking_waits) || (s->blocking && !s->legacy && legacy_waits);
      if (!is_needed) continue;
      needed[i] = 1;
      streams.insert(s);
      if (s->legacy) legacy_waits = true;
      if (s->blocking && !s->legacy) blocking_waits = true;
    }
    return needed;
  }

  CUresult run_marked(const std::vector<char>& needed, std::string& report) {
    std::vector<Work> runnable, rest;
    for (size_t i = 0; i < pending_.size(); ++i) (needed[i] ? runnable : rest).push_back(std::move(pending_[i]));
    pending_ = std::move(rest);
    for (Work& w : runnable) {
      if (const CUresult r = w.run(report); r != 0) {
        pending_.clear();
        return r;
      }
    }
    return 0;
  }

  Stream legacy_;
  std::vector<Work> pending_;
  unsigned long long next_issue_ = 1;
};

}  // namespace device
