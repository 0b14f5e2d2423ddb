// Compares a kernel's outputs, run under the emulation, with the float64 reference, and the driver loop every
// attention emulation shares: random problems, one element type per case in turn (f32, f16, bf16), each held to
// the reference of its own rounded operands. Include after cuda_fiber_runtime.hpp and reference_attention.hpp.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "attention_params.cuh"

namespace emulation {

template <typename T> struct Element;
template <> struct Element<float> {
  static float from(float x) { return x; }
  static float widen(float x) { return x; }
  static constexpr const char* name = "f32";
};
template <> struct Element<__half> {
  static __half from(float x) { return __float2half_rn(x); }
  static float widen(__half x) { return __half2float(x); }
  static constexpr const char* name = "f16";
};
template <> struct Element<__nv_bfloat16> {
  static __nv_bfloat16 from(float x) { return __float2bfloat16_rn(x); }
  static float widen(__nv_bfloat16 x) { return __bfloat162float(x); }
  static constexpr const char* name = "bf16";
};

template <typename T>
std::vector<T> to_elements(const std::vector<float>& x) {
  std::vector<T> y(x.size());
  for (size_t n = 0; n < x.size(); ++n) y[n] = Element<T>::from(x[n]);
  return y;
}

// Rounds q, k and v to T, so that the reference sees the operands the kernel reads.
template <typename T>
void round_operands(Problem& p) {
  for (auto* x : {&p.q, &p.k, &p.v})
    for (auto& e : *x) e = Element<T>::widen(Element<T>::from(e));
}

constexpr float kSentinel = 12288.0f;  // exact in float, Half and bfloat16: marks what a kernel must not write

// What one run of a kernel produced. o is in the output layout (its padding must keep the sentinel); lse and probs
// are [B, Hq, Lq] and [B, Hq, Lq, Lk], the sentinel where the problem did not ask for them.
struct Outputs {
  std::vector<float> o, lse, probs;
  bool shared_overrun = false;
};

// Output buffers for a run: everything the sentinel.
template <typename T>
struct OutputBuffers {
  std::vector<T> o;
  std::vector<float> lse, probs;
  explicit OutputBuffers(const Problem& p)
      : o(extent(p.os, p.batch, p.q_heads, p.q_len, p.value_dim), Element<T>::from(kSentinel)),
        lse(static_cast<size_t>(p.rows()), kSentinel),
        probs(static_cast<size_t>(p.rows()) * p.k_len, kSentinel) {}
  float* lse_or_null(const Problem& p) { return p.want_lse ? lse.data() : nullptr; }
  float* probs_or_null(const Problem& p) { return p.want_probs ? probs.data() : nullptr; }
  // The kernels' parameter struct for problem p on operands q, k, v and these outputs, as the managed side fills it
  // (Cuda/AttentionParams.cs): one split, no split-KV workspace.
  attention::AttentionParams<T> params(const Problem& p, const T* q, const T* k, const T* v) {
    attention::AttentionParams<T> a{};
    a.q = q, a.k = k, a.v = v, a.o = o.data();
    a.lse = lse_or_null(p), a.probs = probs_or_null(p);
    a.mask = p.has_mask ? p.mask.data() : nullptr;
    a.bias = p.has_bias ? p.bias.data() : nullptr;
    a.key_lengths = p.has_lengths ? p.lengths.data() : nullptr;
    a.batch = p.batch, a.q_heads = p.q_heads, a.kv_heads = p.kv_heads, a.q_len = p.q_len, a.k_len = p.k_len;
    a.head_dim = p.head_dim, a.value_dim = p.value_dim, a.num_splits = 1;
    a.q_stride_b = p.qs.b, a.q_stride_h = p.qs.h, a.q_stride_s = p.qs.s;
    a.k_stride_b = p.ks.b, a.k_stride_h = p.ks.h, a.k_stride_s = p.ks.s;
    a.v_stride_b = p.vs.b, a.v_stride_h = p.vs.h, a.v_stride_s = p.vs.s;
    a.o_stride_b = p.os.b, a.o_stride_h = p.os.h, a.o_stride_s = p.os.s;
    a.mask_stride_b = p.mask_stride_b(), a.mask_stride_h = p.mask_stride_h();
    a.bias_stride_b = p.bias_stride_b(), a.bias_stride_h = p.bias_stride_h();
    a.scale = p.scale, a.softcap = p.softcap;
    a.causal = p.causal, a.window_left = p.window_left, a.window_right = p.window_right;
    return a;
  }
  Outputs outputs(bool shared_overrun) const {
    Outputs out{std::vector<float>(o.size()), lse, probs, shared_overrun};
    for (size_t n = 0; n < o.size(); ++n) out.o[n] = Element<T>::widen(o[n]);
    return out;
  }
};

inline int failures = 0;

inline void fail(int id, const char* type, const Problem& p, const char* what) {
  if (failures++ < 20) {
    std::printf("case %d (%s): %s\n  [B=%d Hq=%d Hkv=%d Lq=%d Lk=%d D=%d Dv=%d scale=%g softcap=%g causal=%d "
                "window=(%d,%d) mask=%d bias=%d lengths=%d magnitude=%g]\n", id, type, what, p.batch, p.q_heads,
                p.kv_heads, p.q_len, p.k_len, p.head_dim, p.value_dim, p.scale, p.softcap, p.causal, p.window_left,
                p.window_right, p.has_mask, p.has_bias, p.has_lengths, p.magnitude);
  }
}

// Checks a run against the reference and returns O's relative error over the whole tensor. Fully masked rows must
// be exact zeros with lse −∞; lse and probabilities are held to the score error the row's magnitude allows:
// `score_error` of it, 2e-7 for fp32 arithmetic (more where the kernel rounds its operands further, as TF32 does).
inline double check_outputs(int id, const char* type, const Problem& p, const Result& ref, const Outputs& run,
                            double o_tolerance, double score_error = 2e-7) {
  if (run.shared_overrun) fail(id, type, p, "wrote past the dynamic shared memory it was launched with");
  double err2 = 0, ref2 = 0;
  std::vector<bool> written(run.o.size(), false);
  for (int b = 0; b < p.batch; ++b)
    for (int h = 0; h < p.q_heads; ++h)
      for (int i = 0; i < p.q_len; ++i) {
        const long long row = (static_cast<long long>(b) * p.q_heads + h) * p.q_len + i;
        const bool empty = std::isinf(ref.lse[row]);
        // Float scores carry about 1e-7 of the row's magnitude (the terms' scale) in absolute error.
        const double score_tolerance = 2e-6 + score_error * ref.magnitude[row];
        for (int c = 0; c < p.value_dim; ++c) {
          const long long at = b * p.os.b + h * p.os.h + i * p.os.s + c;
          written[at] = true;
          const double got = run.o[at], want = ref.o[row * p.value_dim + c];
          if (!std::isfinite(got)) fail(id, type, p, "non-finite output");
          if (empty && got != 0) fail(id, type, p, "fully masked row with non-zero output");
          err2 += (got - want) * (got - want);
          ref2 += want * want;
        }
        if (p.want_lse) {
          const double got = run.lse[row], want = ref.lse[row];
          if (empty ? !(std::isinf(got) && got < 0)
                    : !(std::fabs(got - want) <= score_tolerance + 2e-7 * std::fabs(want))) {
            char m[128];
            std::snprintf(m, sizeof m, "row %lld: log-sum-exp %.9g, reference %.9g", row, got, want);
            fail(id, type, p, m);
          }
        }
        if (p.want_probs) {
          for (int j = 0; j < p.k_len; ++j) {
            const double got = run.probs[row * p.k_len + j], want = ref.probs[row * p.k_len + j];
            if (want == 0 ? got != 0 : !(std::fabs(got - want) <= score_tolerance)) {
              char m[128];
              std::snprintf(m, sizeof m, "probability %.9g, reference %.9g", got, want);
              fail(id, type, p, m);
            }
          }
        }
      }
  for (size_t n = 0; n < run.o.size(); ++n) {
    if (!written[n] && run.o[n] != kSentinel) fail(id, type, p, "wrote into the output's padding");
  }
  for (float x : run.lse) {
    if (!p.want_lse && x != kSentinel) { fail(id, type, p, "wrote a null lse"); break; }
  }
  for (float x : run.probs) {
    if (!p.want_probs && x != kSentinel) { fail(id, type, p, "wrote null probabilities"); break; }
  }
  const double rel = ref2 > 0 ? std::sqrt(err2 / ref2) : std::sqrt(err2);
  if (std::getenv("EMULATION_VERBOSE") != nullptr) {
    std::printf("case %d (%s): relative output error %.3g [B=%d Hq=%d Hkv=%d Lq=%d Lk=%d D=%d Dv=%d softcap=%g "
                "causal=%d mask=%d bias=%d magnitude=%g]\n", id, type, rel, p.batch, p.q_heads, p.kv_heads, p.q_len,
                p.k_len, p.head_dim, p.value_dim, p.softcap, p.causal, p.has_mask, p.has_bias, p.magnitude);
  }
  if (!(rel <= o_tolerance)) {
    char message[96];
    std::snprintf(message, sizeof message, "relative output error %.3g > %.3g", rel, o_tolerance);
    fail(id, type, p, message);
  }
  return rel;
}

// Tolerances on O's relative error per element type: fp32 arithmetic, then the final rounding of O to T.
struct Tolerances {
  double f32 = 1e-5, f16 = 2e-3, bf16 = 1e-2;
};

// The shared driver: `./emulation [cases [seed [only-this-case]]]` (EMULATION_VERBOSE=1 prints every case's error). `run` is a generic callable,
// run.template operator()<T>(id, problem) -> Outputs, that launches the kernel for element type T.
// `adjust(problem)` may change a drawn problem (e.g. drop what the kernel does not support). Returns the exit status.
template <typename Run, typename Adjust>
int run_cases(int argc, char** argv, const char* name, const ProblemLimits& limits, const Tolerances& tolerances,
              Run run, Adjust adjust) {
  const int cases = argc > 1 ? std::atoi(argv[1]) : 300;
  const unsigned long long seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 20250520;
  const int only = argc > 3 ? std::atoi(argv[3]) : -1;
  rng.seed(seed);
  double worst[3] = {0, 0, 0};
  for (int id = 0; id < cases; ++id) {
    Problem p = random_problem(limits);
    adjust(p);
    if (only >= 0 && id != only) continue;
    if (only >= 0) {
      p.want_probs = limits.probs_chance > 0;
      p.want_lse = true;
    }
    switch (id % 3) {
      case 0:
        worst[0] = std::fmax(worst[0], check_outputs(id, "f32", p, reference(p), run.template operator()<float>(id, p),
                                                     tolerances.f32));
        break;
      case 1:
        round_operands<__half>(p);
        worst[1] = std::fmax(worst[1], check_outputs(id, "f16", p, reference(p), run.template operator()<__half>(id, p),
                                                     tolerances.f16));
        break;
      default:
        round_operands<__nv_bfloat16>(p);
        worst[2] = std::fmax(worst[2], check_outputs(id, "bf16", p, reference(p),
                                                     run.template operator()<__nv_bfloat16>(id, p), tolerances.bf16));
        break;
    }
  }
  std::printf("%s emulation: %d cases (seed %llu), worst relative output error f32 %.2g, f16 %.2g, bf16 %.2g: %s\n",
              name, cases, seed, worst[0], worst[1], worst[2], failures == 0 ? "ok" : "FAILED");
  return failures == 0 ? 0 : 1;
}

}  // namespace emulation
