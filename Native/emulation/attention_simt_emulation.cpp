// Runs the real Native/attention_simt.cu source on the CPU — the kernel template compiled as host C++, each CUDA
// thread a fiber, each shuffle a warp barrier — and compares it with a float64 port of
// Managed/Attention.Native/Reference/ReferenceAttention.cs over random problems that cover every option: GQA,
// BHSD/BSHD and padded strides, masks and biases (broadcast, −∞ entries, rows left empty), key lengths (0 included),
// causal top-left/bottom-right, windows, softcap, huge scores, optional lse/probs, head dims across the 32-lane
// boundaries, f32/f16/bf16. It checks the kernel's logic (ranges, masks, online softmax, indexing, optional outputs,
// the 4·(D+Dv)-float shared-memory budget, warp-uniform shuffles), not the GPU's arithmetic: host expf/tanhf stand
// in for the device ones. It is no substitute for running on a GPU, but it runs wherever the toolkit's headers are.
// ./build.sh test runs it where nvcc is installed:
//
//   clang++-14 -std=c++20 -O1 -I Native -o attention_simt_emulation Native/emulation/attention_simt_emulation.cpp
//   ./attention_simt_emulation [cases [seed [only-this-case]]]

// ---- CUDA on the host ---------------------------------------------------------------------------------------------
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <ucontext.h>
#include <vector>

#define __global__
#define __device__
#define __shared__
#undef __forceinline__
#define __forceinline__ inline

struct EmulatedDim {
  unsigned x, y, z;
};
EmulatedDim threadIdx, blockIdx;

inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }

// The 128 threads of a block run as fibers (ucontext) on one OS thread, switching only at warp barriers: every
// shuffle and __syncwarp is one. A barrier that not all 32 lanes of a warp reach (a divergence bug) is reported as
// a deadlock.
struct EmulatedWarp {
  int arrived = 0;
  unsigned generation = 0;
  float slots[32];
};
EmulatedWarp* this_warp;
void yield_to_scheduler();

inline void warp_barrier() {
  EmulatedWarp& w = *this_warp;
  const unsigned generation = w.generation;
  if (++w.arrived == 32) {
    w.arrived = 0;
    ++w.generation;
    return;
  }
  while (w.generation == generation) yield_to_scheduler();
}

inline float __shfl_xor_sync(unsigned mask, float x, int offset) {
  if (mask != 0xffffffffu) std::abort();
  const int lane = static_cast<int>(threadIdx.x);
  this_warp->slots[lane] = x;
  warp_barrier();
  const float y = this_warp->slots[lane ^ offset];
  warp_barrier();
  return y;
}
inline void __syncwarp() { warp_barrier(); }

// The dynamic shared memory of the one block that runs at a time; the kernel's `extern __shared__ float shared[]`
// (block scope, namespace attention) refers to it.
namespace attention {
constexpr int kEmulatedSharedFloats = 1 << 16;
float shared[kEmulatedSharedFloats];
}  // namespace attention

#include "attention_simt.cu"

// ---- The problem ----------------------------------------------------------------------------------------------------
namespace {

std::mt19937_64 rng;
int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
float uniformf(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(rng); }
bool chance(double p) { return std::bernoulli_distribution(p)(rng); }

struct Strides {
  long long b, h, s;
};

// BHSD or BSHD with an optional gap after each row, like a slice of a wider tensor.
Strides make_strides(bool bshd, int heads, int len, int dim, int gap) {
  const long long row = dim + gap;
  return bshd ? Strides{static_cast<long long>(len) * heads * row, row, heads * row}
              : Strides{static_cast<long long>(heads) * len * row, static_cast<long long>(len) * row, row};
}

long long extent(Strides s, int batch, int heads, int len, int dim) {
  return (batch - 1) * s.b + (heads - 1) * s.h + (len - 1) * s.s + dim;
}

struct Problem {
  int batch, q_heads, kv_heads, q_len, k_len, head_dim, value_dim;
  Strides qs, ks, vs, os;
  float scale, softcap;
  int causal, window_left, window_right;
  bool has_mask, has_bias, has_lengths, want_lse, want_probs;
  int mask_batch, mask_heads, bias_batch, bias_heads;  // 1 where broadcast
  std::vector<unsigned char> mask;
  std::vector<float> bias;
  std::vector<int> lengths;
  std::vector<float> q, k, v;  // the operands as the kernel reads them (round_operands rounds them to T)
  float magnitude;             // of the operands: 1, or 30 for huge scores

  long long score_stride_b(int batch_n, int heads_n) const {
    return batch_n == 1 ? 0 : static_cast<long long>(heads_n) * q_len * k_len;
  }
  long long score_stride_h(int heads_n) const { return heads_n == 1 ? 0 : static_cast<long long>(q_len) * k_len; }
};

template <typename T>
T to_t(float x) {
  return attention::from_float<T>(x);
}

Problem random_problem() {
  Problem p{};
  p.batch = uniform(1, 2);
  p.kv_heads = uniform(1, 2);
  p.q_heads = p.kv_heads * uniform(1, 3);
  p.q_len = chance(0.2) ? 1 : uniform(1, 11);
  p.k_len = chance(0.2) ? uniform(1, 3) : uniform(1, 45);
  static const int dims[] = {1, 2, 7, 31, 32, 33, 64, 65, 96, 128, 256};
  constexpr int last_dim = sizeof dims / sizeof dims[0] - 1;
  p.head_dim = dims[uniform(0, last_dim)];
  p.value_dim = chance(0.5) ? p.head_dim : dims[uniform(0, last_dim)];
  const bool bshd = chance(0.5);
  p.qs = make_strides(bshd, p.q_heads, p.q_len, p.head_dim, chance(0.3) ? uniform(1, 5) : 0);
  p.ks = make_strides(bshd, p.kv_heads, p.k_len, p.head_dim, chance(0.3) ? uniform(1, 5) : 0);
  p.vs = make_strides(bshd, p.kv_heads, p.k_len, p.value_dim, chance(0.3) ? uniform(1, 5) : 0);
  p.os = make_strides(chance(0.5), p.q_heads, p.q_len, p.value_dim, chance(0.3) ? uniform(1, 5) : 0);
  p.scale = chance(0.6) ? 1.0f / std::sqrt(static_cast<float>(p.head_dim)) : uniformf(0.01f, 4.0f);
  p.softcap = chance(0.3) ? uniformf(0.5f, 30.0f) : 0.0f;
  p.causal = uniform(0, 2);
  p.window_left = chance(0.3) ? uniform(0, p.k_len) : -1;
  p.window_right = chance(0.3) ? uniform(0, p.k_len) : -1;
  p.want_lse = chance(0.7);
  p.want_probs = chance(0.7);

  p.has_lengths = chance(0.3);
  if (p.has_lengths) {
    for (int b = 0; b < p.batch; ++b) p.lengths.push_back(chance(0.15) ? 0 : uniform(0, p.k_len));
  }
  p.has_mask = chance(0.4);
  if (p.has_mask) {
    p.mask_batch = chance(0.5) ? 1 : p.batch;
    p.mask_heads = chance(0.5) ? 1 : p.q_heads;
    const double density = chance(0.2) ? 0.05 : 0.7;  // sparse masks leave whole rows empty
    p.mask.resize(static_cast<size_t>(p.mask_batch) * p.mask_heads * p.q_len * p.k_len);
    for (auto& m : p.mask) m = chance(density) ? 1 : 0;
  }
  p.has_bias = chance(0.4);
  if (p.has_bias) {
    p.bias_batch = chance(0.5) ? 1 : p.batch;
    p.bias_heads = chance(0.5) ? 1 : p.q_heads;
    const bool with_minus_inf = chance(0.3);
    p.bias.resize(static_cast<size_t>(p.bias_batch) * p.bias_heads * p.q_len * p.k_len);
    for (auto& x : p.bias) x = with_minus_inf && chance(0.3) ? -INFINITY : uniformf(-3.0f, 3.0f);
  }

  // Occasionally huge scores: the online softmax must rescale without overflow.
  p.magnitude = chance(0.15) ? 30.0f : 1.0f;
  auto fill = [&](std::vector<float>& x, long long n) {
    x.resize(n);
    for (auto& e : x) e = p.magnitude * uniformf(-1.0f, 1.0f);
  };
  fill(p.q, extent(p.qs, p.batch, p.q_heads, p.q_len, p.head_dim));
  fill(p.k, extent(p.ks, p.batch, p.kv_heads, p.k_len, p.head_dim));
  fill(p.v, extent(p.vs, p.batch, p.kv_heads, p.k_len, p.value_dim));
  return p;
}

// ---- The float64 reference (ReferenceAttention.Compute, term for term) ----------------------------------------------
struct Result {
  std::vector<double> o, lse, probs;  // [B, Hq, Lq, Dv], [B, Hq, Lq], [B, Hq, Lq, Lk]
  // Per row, max over visible keys of scale · Σ|q_x·k_x|: what the rounding error of a float dot product scales
  // with. Scores that cancel from large terms are only that accurate in any fp32 kernel.
  std::vector<double> magnitude;
};

Result reference(const Problem& p) {
  Result r;
  const int lq = p.q_len, lk = p.k_len;
  r.o.assign(static_cast<size_t>(p.batch) * p.q_heads * lq * p.value_dim, 0.0);
  r.lse.assign(static_cast<size_t>(p.batch) * p.q_heads * lq, 0.0);
  r.magnitude.assign(r.lse.size(), 0.0);
  r.probs.assign(static_cast<size_t>(p.batch) * p.q_heads * lq * lk, 0.0);
  std::vector<double> scores(lk);
  std::vector<bool> visible(lk);
  for (int b = 0; b < p.batch; ++b) {
    const int length = p.has_lengths ? p.lengths[b] : lk;
    for (int h = 0; h < p.q_heads; ++h) {
      const int kvh = h / (p.q_heads / p.kv_heads);
      for (int i = 0; i < lq; ++i) {
        const long long row = (static_cast<long long>(b) * p.q_heads + h) * lq + i;
        double max = -INFINITY;
        for (int j = 0; j < lk; ++j) {
          const long long diagonal = static_cast<long long>(i) + length - lq;
          bool ok = j < length;
          if (p.causal == 1) ok = ok && j <= i;
          if (p.causal == 2) ok = ok && j <= diagonal;
          if (p.window_left >= 0) ok = ok && j >= diagonal - p.window_left;
          if (p.window_right >= 0) ok = ok && j <= diagonal + p.window_right;
          if (p.has_mask) {
            const long long at = ((static_cast<long long>(p.mask_batch == 1 ? 0 : b) * p.mask_heads +
                                   (p.mask_heads == 1 ? 0 : h)) * lq + i) * lk + j;
            ok = ok && p.mask[at] != 0;
          }
          visible[j] = ok;
          if (!ok) continue;
          double dot = 0, absolute = 0;
          for (int x = 0; x < p.head_dim; ++x) {
            const double term = static_cast<double>(p.q[b * p.qs.b + h * p.qs.h + i * p.qs.s + x]) *
                                p.k[b * p.ks.b + kvh * p.ks.h + j * p.ks.s + x];
            dot += term;
            absolute += std::fabs(term);
          }
          r.magnitude[row] = std::fmax(r.magnitude[row], absolute * p.scale);
          double s = dot * p.scale;
          if (p.softcap > 0) s = p.softcap * std::tanh(s / p.softcap);
          if (p.has_bias) {
            const long long at = ((static_cast<long long>(p.bias_batch == 1 ? 0 : b) * p.bias_heads +
                                   (p.bias_heads == 1 ? 0 : h)) * lq + i) * lk + j;
            s += p.bias[at];
          }
          scores[j] = s;
          max = std::fmax(max, s);
        }
        if (std::isinf(max) && max < 0) {
          r.lse[row] = -INFINITY;
          continue;
        }
        double sum = 0;
        for (int j = 0; j < lk; ++j) {
          if (visible[j]) sum += (scores[j] = std::exp(scores[j] - max));
        }
        r.lse[row] = max + std::log(sum);
        for (int j = 0; j < lk; ++j) {
          if (!visible[j]) continue;
          const double pj = scores[j] / sum;
          r.probs[row * lk + j] = pj;
          for (int c = 0; c < p.value_dim; ++c) {
            r.o[row * p.value_dim + c] += pj * p.v[b * p.vs.b + kvh * p.vs.h + j * p.vs.s + c];
          }
        }
      }
    }
  }
  return r;
}

// ---- Launch the kernel as the contract says -------------------------------------------------------------------------
template <typename T>
struct KernelOf;
template <> struct KernelOf<float> { static constexpr auto fn = &attention_simt_f32; static constexpr const char* name = "f32"; };
template <> struct KernelOf<__half> { static constexpr auto fn = &attention_simt_f16; static constexpr const char* name = "f16"; };
template <> struct KernelOf<__nv_bfloat16> { static constexpr auto fn = &attention_simt_bf16; static constexpr const char* name = "bf16"; };

constexpr float kSentinel = 12288.0f;  // exact in float, Half and bfloat16

class BlockScheduler {
 public:
  BlockScheduler() : stacks_(kThreads * kStackBytes) {}

  // Runs `job` as each of the block's 128 threads until all have returned.
  void run_block(EmulatedDim block, const std::function<void()>& job) {
    blockIdx = block;
    job_ = &job;
    for (int t = 0; t < kThreads; ++t) {
      warps_[t / 32] = EmulatedWarp{};
      getcontext(&fibers_[t]);
      fibers_[t].uc_stack.ss_sp = stacks_.data() + static_cast<size_t>(t) * kStackBytes;
      fibers_[t].uc_stack.ss_size = kStackBytes;
      fibers_[t].uc_link = &scheduler_;
      makecontext(&fibers_[t], &BlockScheduler::entry, 0);
      finished_[t] = false;
    }
    int live = kThreads;
    long long idle_rounds = 0;
    while (live > 0) {
      const unsigned long long before = progress();
      for (int t = 0; t < kThreads; ++t) {
        if (finished_[t]) continue;
        current_ = t;
        threadIdx = {static_cast<unsigned>(t % 32), static_cast<unsigned>(t / 32), 0};
        this_warp = &warps_[t / 32];
        returned_ = false;
        swapcontext(&scheduler_, &fibers_[t]);
        if (returned_) {
          finished_[t] = true;
          --live;
        }
      }
      idle_rounds = progress() == before && live > 0 ? idle_rounds + 1 : 0;
      if (idle_rounds > 2) {
        std::printf("deadlock: some lanes of a warp wait at a shuffle or __syncwarp the others never reach\n");
        std::exit(2);
      }
    }
  }

  static void yield() { swapcontext(&instance().fibers_[instance().current_], &instance().scheduler_); }

  static BlockScheduler& instance() {
    static BlockScheduler scheduler;
    return scheduler;
  }

 private:
  static constexpr int kThreads = 128;
  static constexpr size_t kStackBytes = 128 * 1024;

  static void entry() {
    (*instance().job_)();
    instance().returned_ = true;  // uc_link resumes the scheduler
  }

  unsigned long long progress() const {
    unsigned long long sum = 0;
    for (const auto& w : warps_) sum += w.generation * 64ull + w.arrived;
    for (bool f : finished_) sum += f ? 1 : 0;
    return sum;
  }

  std::vector<char> stacks_;
  ucontext_t scheduler_{};
  ucontext_t fibers_[kThreads]{};
  bool finished_[kThreads]{};
  EmulatedWarp warps_[4];
  int current_ = 0;
  bool returned_ = false;
  const std::function<void()>* job_ = nullptr;
};

template <typename T>
struct Run {
  std::vector<float> o, lse, probs;  // o in the output layout (padding must keep the sentinel)
  bool shared_overrun = false;
};

template <typename T>
Run<T> run_kernel(const Problem& p) {
  std::vector<T> q(p.q.size()), k(p.k.size()), v(p.v.size());
  for (size_t n = 0; n < q.size(); ++n) q[n] = to_t<T>(p.q[n]);
  for (size_t n = 0; n < k.size(); ++n) k[n] = to_t<T>(p.k[n]);
  for (size_t n = 0; n < v.size(); ++n) v[n] = to_t<T>(p.v[n]);
  const long long o_size = extent(p.os, p.batch, p.q_heads, p.q_len, p.value_dim);
  std::vector<T> o(o_size, to_t<T>(kSentinel));
  Run<T> run;
  run.lse.assign(static_cast<size_t>(p.batch) * p.q_heads * p.q_len, kSentinel);
  run.probs.assign(static_cast<size_t>(p.batch) * p.q_heads * p.q_len * p.k_len, kSentinel);

  const int shared_floats = 4 * (p.head_dim + p.value_dim);  // the README's dynamic shared memory
  const unsigned grid_x = (p.q_len + 3) / 4;
  for (unsigned gz = 0; gz < static_cast<unsigned>(p.batch); ++gz) {
    for (unsigned gy = 0; gy < static_cast<unsigned>(p.q_heads); ++gy) {
      for (unsigned gx = 0; gx < grid_x; ++gx) {
        std::fill(std::begin(attention::shared), std::end(attention::shared), kSentinel);
        BlockScheduler::instance().run_block({gx, gy, gz}, [&] {
          KernelOf<T>::fn(q.data(), k.data(), v.data(), o.data(), p.want_lse ? run.lse.data() : nullptr,
                          p.want_probs ? run.probs.data() : nullptr, p.has_mask ? p.mask.data() : nullptr,
                          p.has_bias ? p.bias.data() : nullptr, p.has_lengths ? p.lengths.data() : nullptr,
                          p.batch, p.q_heads, p.kv_heads, p.q_len, p.k_len, p.head_dim, p.value_dim,
                          p.qs.b, p.qs.h, p.qs.s, p.ks.b, p.ks.h, p.ks.s, p.vs.b, p.vs.h, p.vs.s,
                          p.os.b, p.os.h, p.os.s,
                          p.has_mask ? p.score_stride_b(p.mask_batch, p.mask_heads) : 0,
                          p.has_mask ? p.score_stride_h(p.mask_heads) : 0,
                          p.has_bias ? p.score_stride_b(p.bias_batch, p.bias_heads) : 0,
                          p.has_bias ? p.score_stride_h(p.bias_heads) : 0,
                          p.scale, p.softcap, p.causal, p.window_left, p.window_right);
        });
        for (int n = shared_floats; n < attention::kEmulatedSharedFloats; ++n) {
          if (attention::shared[n] != kSentinel) run.shared_overrun = true;
        }
      }
    }
  }
  run.o.resize(o.size());
  for (size_t n = 0; n < o.size(); ++n) run.o[n] = attention::to_float(o[n]);
  return run;
}

// ---- Compare --------------------------------------------------------------------------------------------------------
int failures = 0;

const Problem* current_problem;

void fail(int id, const char* type, const char* what) {
  if (failures++ < 20) {
    const Problem& p = *current_problem;
    std::printf("case %d (%s): %s\n  [B=%d Hq=%d Hkv=%d Lq=%d Lk=%d D=%d Dv=%d scale=%g softcap=%g causal=%d window=(%d,%d) "
                "mask=%d bias=%d lengths=%d magnitude=%g]\n", id, type, what, p.batch, p.q_heads, p.kv_heads, p.q_len, p.k_len,
                p.head_dim, p.value_dim, p.scale, p.softcap, p.causal, p.window_left, p.window_right, p.has_mask,
                p.has_bias, p.has_lengths, p.magnitude);
  }
}

template <typename T>
double check(int id, const Problem& p, const Result& ref, double o_tolerance) {
  const char* type = KernelOf<T>::name;
  current_problem = &p;
  const Run<T> run = run_kernel<T>(p);
  if (run.shared_overrun) fail(id, type, "wrote past its 4·(D+Dv) floats of shared memory");

  // O: the relative error over the whole tensor, and exact zeros for fully masked rows.
  double err2 = 0, ref2 = 0;
  std::vector<bool> written(run.o.size(), false);
  for (int b = 0; b < p.batch; ++b)
    for (int h = 0; h < p.q_heads; ++h)
      for (int i = 0; i < p.q_len; ++i) {
        const long long row = (static_cast<long long>(b) * p.q_heads + h) * p.q_len + i;
        const bool empty = std::isinf(ref.lse[row]);
        // Float scores carry about 1e-7 of the row's magnitude (the terms' scale) in absolute error.
        const double score_tolerance = 2e-6 + 2e-7 * ref.magnitude[row];
        for (int c = 0; c < p.value_dim; ++c) {
          const long long at = b * p.os.b + h * p.os.h + i * p.os.s + c;
          written[at] = true;
          const double got = run.o[at], want = ref.o[row * p.value_dim + c];
          if (!std::isfinite(got)) fail(id, type, "non-finite output");
          if (empty && got != 0) fail(id, type, "fully masked row with non-zero output");
          err2 += (got - want) * (got - want);
          ref2 += want * want;
        }
        if (p.want_lse) {
          const double got = run.lse[row], want = ref.lse[row];
          if (empty ? !(std::isinf(got) && got < 0)
                    : !(std::fabs(got - want) <= score_tolerance + 2e-7 * std::fabs(want))) {
            char m[128];
            std::snprintf(m, sizeof m, "log-sum-exp %.9g, reference %.9g", got, want);
            fail(id, type, m);
          }
        }
        if (p.want_probs) {
          for (int j = 0; j < p.k_len; ++j) {
            const double got = run.probs[row * p.k_len + j], want = ref.probs[row * p.k_len + j];
            if (want == 0 ? got != 0 : !(std::fabs(got - want) <= score_tolerance)) {
              char m[128];
              std::snprintf(m, sizeof m, "probability %.9g, reference %.9g", got, want);
              fail(id, type, m);
            }
          }
        }
      }
  for (size_t n = 0; n < run.o.size(); ++n) {
    if (!written[n] && run.o[n] != kSentinel) fail(id, type, "wrote into the output's padding");
  }
  if (!p.want_lse && run.lse[0] != kSentinel) fail(id, type, "wrote a null lse");
  if (!p.want_probs && run.probs[0] != kSentinel) fail(id, type, "wrote null probabilities");
  const double rel = ref2 > 0 ? std::sqrt(err2 / ref2) : std::sqrt(err2);
  if (!(rel <= o_tolerance)) {
    char message[96];
    std::snprintf(message, sizeof message, "relative output error %.3g > %.3g", rel, o_tolerance);
    fail(id, type, message);
  }
  return rel;
}

template <typename T>
void round_operands(Problem& p) {
  for (auto* x : {&p.q, &p.k, &p.v})
    for (auto& e : *x) e = attention::to_float(to_t<T>(e));
}

}  // namespace

void yield_to_scheduler() { BlockScheduler::yield(); }

int main(int argc, char** argv) {
  const int cases = argc > 1 ? std::atoi(argv[1]) : 300;
  const unsigned long long seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 20250520;
  rng.seed(seed);
  double worst[3] = {0, 0, 0};
  const int only = argc > 3 ? std::atoi(argv[3]) : -1;
  for (int id = 0; id < cases; ++id) {
    Problem p = random_problem();
    if (only >= 0 && id != only) continue;
    if (only >= 0) {
      p.want_probs = true;
      p.want_lse = true;
    }
    // Each type is checked against the reference of its own rounded operands, so the tolerance covers only the
    // kernel's float arithmetic and the final rounding of O to T.
    switch (id % 3) {
      case 0: worst[0] = std::fmax(worst[0], check<float>(id, p, reference(p), 1e-5)); break;
      case 1: round_operands<__half>(p); worst[1] = std::fmax(worst[1], check<__half>(id, p, reference(p), 2e-3)); break;
      default: round_operands<__nv_bfloat16>(p); worst[2] = std::fmax(worst[2], check<__nv_bfloat16>(id, p, reference(p), 1e-2)); break;
    }
  }
  std::printf("simt emulation: %d cases (seed %llu), worst relative output error f32 %.2g, f16 %.2g, bf16 %.2g: %s\n",
              cases, seed, worst[0], worst[1], worst[2], failures == 0 ? "ok" : "FAILED");
  return failures == 0 ? 0 : 1;
}
