// Runs the real Native/attention_backward.cu and attention_backward_mma.cu sources on the CPU — the three launches
// (prepare, simt or mma, dq) as the managed launcher queues them; problems the mma kernel takes (f16/bf16, D = Dv = 64
// or 128; a quarter of the cases are drawn so) run both middle kernels, each CUDA thread a fiber (cuda_fiber_runtime.hpp) — and compares dQ, dK, dV and the
// bias gradient with a float64 backward over the random problems of the forward emulations (reference_attention.hpp:
// GQA, BHSD/BSHD and padded strides, masks and biases broadcast or not with −∞ entries and empty rows, key lengths
// with 0, both causal alignments, windows, softcap, f32/f16/bf16). The backward's inputs are the float64 forward's
// O (rounded to T) and log-sum-exp (rounded to float), as a training step hands them over; dO is random.
// Also checked: fully masked rows give dQ = 0 exactly, keys past a key length dK = dV = 0 exactly, nothing is
// written into the gradients' row padding, no value is NaN, the dynamic shared memory budget holds.
//
//   clang++-14 -std=c++20 -O1 -fno-strict-aliasing -fsanitize=alignment -fno-sanitize-link-runtime -I Native \
//     -o attention_backward_emulation Native/emulation/attention_backward_emulation.cpp
//   ./attention_backward_emulation [cases [seed [only-this-case]]]

#include "emulation/cuda_fiber_runtime.hpp"

#define ATTENTION_EMULATION 1
#undef __launch_bounds__
#define __launch_bounds__(...)

CUDA_EMULATION_DYNAMIC_SHARED(attention, float, shared);

#include "attention_backward.cu"
#include "attention_backward_mma.cu"

#include "emulation/reference_attention.hpp"
#include "emulation/attention_check.hpp"

namespace {

using emulation::Problem;

template <typename T> struct KernelsOf;
template <> struct KernelsOf<float> {
  static constexpr auto prepare = &attention_backward_prepare_f32, simt = &attention_backward_simt_f32,
                        dq = &attention_backward_dq_f32;
  static constexpr void (*mma64)(const attention::AttentionBackwardParams<float>) = nullptr;
  static constexpr void (*mma128)(const attention::AttentionBackwardParams<float>) = nullptr;
};
template <> struct KernelsOf<__half> {
  static constexpr auto prepare = &attention_backward_prepare_f16, simt = &attention_backward_simt_f16,
                        dq = &attention_backward_dq_f16, mma64 = &attention_backward_mma_d64_f16,
                        mma128 = &attention_backward_mma_d128_f16;
};
template <> struct KernelsOf<__nv_bfloat16> {
  static constexpr auto prepare = &attention_backward_prepare_bf16, simt = &attention_backward_simt_bf16,
                        dq = &attention_backward_dq_bf16, mma64 = &attention_backward_mma_d64_bf16,
                        mma128 = &attention_backward_mma_d128_bf16;
};

// Whether the managed launcher sends the problem to attention_backward_mma (CudaAttentionBackward.Prepare).
template <typename T>
bool mma_takes(const Problem& p) {
  return !std::is_same_v<T, float> && p.head_dim == p.value_dim && (p.head_dim == 64 || p.head_dim == 128);
}

// What the backward reads besides q, k, v (already rounded to T in the problem) and what it must produce.
struct Backward {
  std::vector<float> o, d_o, lse;                // o, d_o in p.os layout; lse [B, Hq, Lq]
  std::vector<double> dq, dk, dv, bias_grad;     // reference gradients in the q/k/v strides and the bias's shape
};

long long bias_at(const Problem& p, int b, int h, int i, int j) {
  return ((static_cast<long long>(p.bias_batch == 1 ? 0 : b) * p.bias_heads + (p.bias_heads == 1 ? 0 : h)) * p.q_len +
          i) * p.k_len + j;
}

// The float64 backward: P from the given lse, D = rowsum(dO ∘ O) from the given O, then FlashAttention-2's
// dS = P ∘ (dP − D), through the softcap's derivative and the scale.
Backward reference_backward(const Problem& p, const emulation::Result& forward, std::vector<float> o,
                            std::vector<float> d_o, std::vector<float> lse) {
  Backward r{std::move(o), std::move(d_o), std::move(lse), {}, {}, {}, {}};
  r.dq.assign(p.q.size(), 0.0);
  r.dk.assign(p.k.size(), 0.0);
  r.dv.assign(p.v.size(), 0.0);
  r.bias_grad.assign(p.bias.size(), 0.0);
  const int lq = p.q_len, lk = p.k_len;
  for (int b = 0; b < p.batch; ++b)
    for (int h = 0; h < p.q_heads; ++h) {
      const int kvh = h / (p.q_heads / p.kv_heads);
      for (int i = 0; i < lq; ++i) {
        const long long row = (static_cast<long long>(b) * p.q_heads + h) * lq + i;
        if (std::isinf(r.lse[row])) continue;
        const float* q = &p.q[b * p.qs.b + h * p.qs.h + i * p.qs.s];
        const float* o_row = &r.o[b * p.os.b + h * p.os.h + i * p.os.s];
        const float* do_row = &r.d_o[b * p.os.b + h * p.os.h + i * p.os.s];
        double delta = 0;
        for (int c = 0; c < p.value_dim; ++c) delta += static_cast<double>(do_row[c]) * o_row[c];
        for (int j = 0; j < lk; ++j) {
          if (forward.probs[row * lk + j] == 0) continue;  // not visible (or a −∞ bias)
          const float* k = &p.k[b * p.ks.b + kvh * p.ks.h + j * p.ks.s];
          const float* v = &p.v[b * p.vs.b + kvh * p.vs.h + j * p.vs.s];
          double dot = 0, dp = 0;
          for (int x = 0; x < p.head_dim; ++x) dot += static_cast<double>(q[x]) * k[x];
          for (int c = 0; c < p.value_dim; ++c) dp += static_cast<double>(do_row[c]) * v[c];
          double s = dot * p.scale, slope = 1;
          if (p.softcap > 0) {
            const double t = std::tanh(s / p.softcap);
            s = p.softcap * t;
            slope = 1 - t * t;
          }
          if (p.has_bias) s += p.bias[bias_at(p, b, h, i, j)];
          const double prob = std::exp(s - static_cast<double>(r.lse[row]));
          const double ds = prob * (dp - delta);
          if (p.has_bias) r.bias_grad[bias_at(p, b, h, i, j)] += ds;
          const double g = ds * slope * p.scale;
          for (int x = 0; x < p.head_dim; ++x) {
            r.dq[b * p.qs.b + h * p.qs.h + i * p.qs.s + x] += g * k[x];
            r.dk[b * p.ks.b + kvh * p.ks.h + j * p.ks.s + x] += g * q[x];
          }
          for (int c = 0; c < p.value_dim; ++c) r.dv[b * p.vs.b + kvh * p.vs.h + j * p.vs.s + c] += prob * do_row[c];
        }
      }
    }
  return r;
}

int failures = 0;

void report(int id, const char* type, const Problem& p, const std::string& what) {
  if (failures++ < 20) {
    std::printf("case %d (%s): %s\n  [B=%d Hq=%d Hkv=%d Lq=%d Lk=%d D=%d Dv=%d scale=%g softcap=%g causal=%d "
                "window=(%d,%d) mask=%d bias=%d lengths=%d magnitude=%g]\n", id, type, what.c_str(), p.batch,
                p.q_heads, p.kv_heads, p.q_len, p.k_len, p.head_dim, p.value_dim, p.scale, p.softcap, p.causal,
                p.window_left, p.window_right, p.has_mask, p.has_bias, p.has_lengths, p.magnitude);
  }
}

// RMS error of one gradient over the elements a [batch, heads, len, dim] tensor at `s` covers, relative to the
// larger of the reference's RMS and `floor`; the padding between rows must keep the sentinel, and no element may be
// non-finite. The floor: where P is one-hot, dS = P ∘ (dP − D) is the cancellation of two equal dot products, exactly
// 0 in float64 and their rounding noise in fp32, so dQ, dK and the bias gradient are held to the size they have
// when P is spread, not to their (vanishing) own.
template <typename T>
double compare(int id, const char* type, const Problem& p, const char* name, const std::vector<T>& got,
               const std::vector<double>& want, emulation::Strides s, int batch, int heads, int len, int dim,
               double floor) {
  double err2 = 0, ref2 = 0;
  std::vector<bool> covered(got.size(), false);
  for (int b = 0; b < batch; ++b)
    for (int h = 0; h < heads; ++h)
      for (int i = 0; i < len; ++i)
        for (int x = 0; x < dim; ++x) {
          const long long at = b * s.b + h * s.h + i * s.s + x;
          covered[at] = true;
          const double g = emulation::Element<T>::widen(got[at]), w = want[at];
          if (!std::isfinite(g)) {
            report(id, type, p, std::string("non-finite ") + name);
            return INFINITY;
          }
          err2 += (g - w) * (g - w);
          ref2 += w * w;
        }
  for (size_t n = 0; n < got.size(); ++n) {
    if (!covered[n] && emulation::Element<T>::widen(got[n]) != emulation::kSentinel) {
      report(id, type, p, std::string("wrote into the padding of ") + name);
      break;
    }
  }
  const double count = static_cast<double>(batch) * heads * len * dim;
  if (err2 == 0) return 0;
  return std::sqrt(err2 / count) / std::fmax(std::sqrt(ref2 / count), floor);
}

// The problem with D = Dv = `dim`: fresh operands of that width in the same layouts (padding gaps kept).
Problem with_head_dim(const Problem& drawn, int dim) {
  Problem p = drawn;
  p.head_dim = p.value_dim = dim;
  // make_strides' layouts: the row is the smaller of the head and sequence strides, BSHD where the head's is.
  auto restride = [&](emulation::Strides s, int heads, int len, int old_dim) {
    return emulation::make_strides(s.h <= s.s, heads, len, dim, static_cast<int>(std::min(s.h, s.s) - old_dim));
  };
  p.qs = restride(drawn.qs, p.q_heads, p.q_len, drawn.head_dim);
  p.ks = restride(drawn.ks, p.kv_heads, p.k_len, drawn.head_dim);
  p.vs = restride(drawn.vs, p.kv_heads, p.k_len, drawn.value_dim);
  p.os = restride(drawn.os, p.q_heads, p.q_len, drawn.value_dim);
  auto fill = [&](std::vector<float>& x, long long n) {
    x.resize(n);
    for (auto& e : x) e = emulation::uniformf(-1.0f, 1.0f);
  };
  fill(p.q, emulation::extent(p.qs, p.batch, p.q_heads, p.q_len, dim));
  fill(p.k, emulation::extent(p.ks, p.batch, p.kv_heads, p.k_len, dim));
  fill(p.v, emulation::extent(p.vs, p.batch, p.kv_heads, p.k_len, dim));
  return p;
}

struct Errors {
  double dq = 0, dk = 0, dv = 0, bias = 0;
};

template <typename T>
Errors run_case(int id, Problem& p, double tolerance, bool mma) {
  using E = emulation::Element<T>;
  const char* type = mma ? (std::is_same_v<T, __half> ? "f16 mma" : "bf16 mma") : E::name;
  const emulation::Result forward = emulation::reference(p);
  // The forward's outputs as a training step hands them to the backward: O in T, lse in float; dO random in T.
  std::vector<float> o(emulation::extent(p.os, p.batch, p.q_heads, p.q_len, p.value_dim), 0.0f), d_o(o.size());
  for (auto& x : d_o) x = E::widen(E::from(emulation::uniformf(-1.0f, 1.0f)));
  std::vector<float> lse(forward.lse.size());
  for (int b = 0; b < p.batch; ++b)
    for (int h = 0; h < p.q_heads; ++h)
      for (int i = 0; i < p.q_len; ++i) {
        const long long row = (static_cast<long long>(b) * p.q_heads + h) * p.q_len + i;
        lse[row] = static_cast<float>(forward.lse[row]);
        for (int c = 0; c < p.value_dim; ++c)
          o[b * p.os.b + h * p.os.h + i * p.os.s + c] = E::widen(E::from(static_cast<float>(forward.o[row * p.value_dim + c])));
      }
  const Backward want = reference_backward(p, forward, o, d_o, lse);

  const std::vector<T> q = emulation::to_elements<T>(p.q), k = emulation::to_elements<T>(p.k),
                       v = emulation::to_elements<T>(p.v), o_t = emulation::to_elements<T>(want.o),
                       do_t = emulation::to_elements<T>(want.d_o);
  // Gradients poisoned with the sentinel, workspaces with NaN (the kernels must write before they read), the bias
  // gradient zeroed as the launcher zeroes it.
  std::vector<T> dq(q.size(), E::from(emulation::kSentinel)), dk(k.size(), E::from(emulation::kSentinel)),
      dv(v.size(), E::from(emulation::kSentinel));
  std::vector<float> dq_accum(static_cast<size_t>(p.rows()) * p.head_dim, NAN), delta(static_cast<size_t>(p.rows()), NAN),
      bias_grad(p.bias.size(), 0.0f);

  attention::AttentionBackwardParams<T> a{};
  a.q = q.data(), a.k = k.data(), a.v = v.data(), a.o = o_t.data(), a.d_o = do_t.data(), a.lse = lse.data();
  a.dq = dq.data(), a.dk = dk.data(), a.dv = dv.data();
  a.bias_grad = p.has_bias ? bias_grad.data() : nullptr;
  a.dq_accum = dq_accum.data(), a.delta = delta.data();
  a.mask = p.has_mask ? p.mask.data() : nullptr;
  a.bias = p.has_bias ? p.bias.data() : nullptr;
  a.key_lengths = p.has_lengths ? p.lengths.data() : nullptr;
  a.q_stride_b = p.qs.b, a.q_stride_h = p.qs.h, a.q_stride_s = p.qs.s;
  a.k_stride_b = p.ks.b, a.k_stride_h = p.ks.h, a.k_stride_s = p.ks.s;
  a.v_stride_b = p.vs.b, a.v_stride_h = p.vs.h, a.v_stride_s = p.vs.s;
  a.o_stride_b = p.os.b, a.o_stride_h = p.os.h, a.o_stride_s = p.os.s;
  a.do_stride_b = p.os.b, a.do_stride_h = p.os.h, a.do_stride_s = p.os.s;
  a.dq_stride_b = p.qs.b, a.dq_stride_h = p.qs.h, a.dq_stride_s = p.qs.s;
  a.dk_stride_b = p.ks.b, a.dk_stride_h = p.ks.h, a.dk_stride_s = p.ks.s;
  a.dv_stride_b = p.vs.b, a.dv_stride_h = p.vs.h, a.dv_stride_s = p.vs.s;
  a.mask_stride_b = p.mask_stride_b(), a.mask_stride_h = p.mask_stride_h();
  a.bias_stride_b = p.bias_stride_b(), a.bias_stride_h = p.bias_stride_h();
  a.batch = p.batch, a.q_heads = p.q_heads, a.kv_heads = p.kv_heads, a.q_len = p.q_len, a.k_len = p.k_len;
  a.head_dim = p.head_dim, a.value_dim = p.value_dim;
  a.scale = p.scale, a.softcap = p.softcap;
  a.causal = p.causal, a.window_left = p.window_left, a.window_right = p.window_right;

  // The launches of Native/README.md: prepare and dq on (⌈Lq/4⌉, Hq, B) × (32, 4); simt on (⌈Lk/16⌉, Hkv, B) × 128.
  const dim3 rows_grid((p.q_len + 3) / 4, p.q_heads, p.batch);
  const size_t shared_bytes = attention::backward_shared_floats(p.head_dim, p.value_dim) * sizeof(float);
  bool overrun = emulation::launch(rows_grid, dim3(32, 4), 0, [&] { KernelsOf<T>::prepare(a); }).shared_overrun;
  if (!mma) {
    overrun |= emulation::launch(dim3((p.k_len + attention::kBwdBlockN - 1) / attention::kBwdBlockN, p.kv_heads, p.batch),
                                 dim3(attention::kBwdThreads), shared_bytes, [&] { KernelsOf<T>::simt(a); })
                   .shared_overrun;
  } else {
    namespace bm = attention::backward_mma;
    const dim3 grid((p.k_len + bm::kBn - 1) / bm::kBn, p.kv_heads, p.batch);
    if (p.head_dim == 64) {
      overrun |= emulation::launch(grid, dim3(bm::kThreads), bm::shared_bytes<64>(), [&] { KernelsOf<T>::mma64(a); })
                     .shared_overrun;
    } else {
      overrun |= emulation::launch(grid, dim3(bm::kThreads), bm::shared_bytes<128>(), [&] { KernelsOf<T>::mma128(a); })
                     .shared_overrun;
    }
  }
  overrun |= emulation::launch(rows_grid, dim3(32, 4), 0, [&] { KernelsOf<T>::dq(a); }).shared_overrun;
  if (overrun) report(id, type, p, "wrote past the dynamic shared memory it was launched with");

  // dP = dO·v of unit-scale operands is about 0.3·√Dv: a gradient through dS of a spread P is about that, times
  // the scale and q or k for dQ and dK.
  const double ds_scale = 1e-2 * std::sqrt(static_cast<double>(p.value_dim));
  Errors e;
  e.dq = compare(id, type, p, "dQ", dq, want.dq, p.qs, p.batch, p.q_heads, p.q_len, p.head_dim, ds_scale * p.scale);
  e.dk = compare(id, type, p, "dK", dk, want.dk, p.ks, p.batch, p.kv_heads, p.k_len, p.head_dim, ds_scale * p.scale);
  e.dv = compare(id, type, p, "dV", dv, want.dv, p.vs, p.batch, p.kv_heads, p.k_len, p.value_dim, 0.0);
  if (p.has_bias) {
    std::vector<float> got(bias_grad);
    e.bias = compare(id, type, p, "biasGrad", got, want.bias_grad,
                     emulation::Strides{static_cast<long long>(p.bias_heads) * p.q_len * p.k_len,
                                        static_cast<long long>(p.q_len) * p.k_len, p.k_len},
                     p.bias_batch, p.bias_heads, p.q_len, p.k_len, ds_scale);
  }
  // Exact zeros where nothing flows: fully masked rows (dQ) and keys past a batch entry's key length (dK, dV).
  for (int b = 0; b < p.batch; ++b) {
    for (int h = 0; h < p.q_heads; ++h)
      for (int i = 0; i < p.q_len; ++i)
        if (std::isinf(lse[(static_cast<long long>(b) * p.q_heads + h) * p.q_len + i]))
          for (int x = 0; x < p.head_dim; ++x)
            if (E::widen(dq[b * p.qs.b + h * p.qs.h + i * p.qs.s + x]) != 0.0f) report(id, type, p, "fully masked row with dQ != 0");
    const int length = p.has_lengths ? p.lengths[b] : p.k_len;
    for (int h = 0; h < p.kv_heads; ++h)
      for (int j = length; j < p.k_len; ++j) {
        for (int x = 0; x < p.head_dim; ++x)
          if (E::widen(dk[b * p.ks.b + h * p.ks.h + j * p.ks.s + x]) != 0.0f) report(id, type, p, "padding key with dK != 0");
        for (int c = 0; c < p.value_dim; ++c)
          if (E::widen(dv[b * p.vs.b + h * p.vs.h + j * p.vs.s + c]) != 0.0f) report(id, type, p, "padding key with dV != 0");
      }
  }
  const double worst = std::fmax(std::fmax(e.dq, e.dk), std::fmax(e.dv, e.bias));
  if (std::getenv("EMULATION_VERBOSE") != nullptr) {
    std::printf("case %d (%s): relative errors dQ %.3g dK %.3g dV %.3g biasGrad %.3g [B=%d Hq=%d Hkv=%d Lq=%d Lk=%d "
                "D=%d Dv=%d softcap=%g causal=%d mask=%d bias=%d magnitude=%g]\n", id, type, e.dq, e.dk, e.dv, e.bias,
                p.batch, p.q_heads, p.kv_heads, p.q_len, p.k_len, p.head_dim, p.value_dim, p.softcap, p.causal,
                p.has_mask, p.has_bias, p.magnitude);
  }
  if (!(worst <= tolerance)) {
    char m[160];
    std::snprintf(m, sizeof m, "relative gradient error dQ %.3g dK %.3g dV %.3g biasGrad %.3g > %.3g", e.dq, e.dk,
                  e.dv, e.bias, tolerance);
    report(id, type, p, m);
  }
  return e;
}

}  // namespace

int main(int argc, char** argv) {
  const int cases = argc > 1 ? std::atoi(argv[1]) : 150;
  const unsigned long long seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 20261206;
  const int only = argc > 3 ? std::atoi(argv[3]) : -1;
  emulation::rng.seed(seed);
  // Longer sequences than the forward's default: a key block loops over several query blocks (16 rows in the SIMT
  // kernel, 16 or 64 in the mma one) and dQ sums over several key blocks (16 or 64 keys).
  emulation::ProblemLimits limits;
  limits.max_q_len = 70;
  limits.max_k_len = 140;
  double worst[5] = {0, 0, 0, 0, 0};
  for (int id = 0; id < cases; ++id) {
    emulation::Problem p = emulation::random_problem(limits);
    // Scores of magnitude 30 make P one-hot: its gradient is then the rounding noise of dP − D, which no relative
    // bound on the gradients holds. The forward emulations cover huge scores; the backward's are of magnitude 1.
    if (p.magnitude != 1.0f) {
      for (auto* x : {&p.q, &p.k, &p.v})
        for (auto& e : *x) e /= p.magnitude;
      p.magnitude = 1.0f;
    }
    // A quarter of the cases in the mma kernel's head dims, so that its f16 and bf16 cases are not rare.
    if (emulation::chance(0.25)) p = with_head_dim(p, emulation::chance(0.5) ? 64 : 128);
    if (only >= 0 && id != only) continue;
    auto worst_of = [](const Errors& e) { return std::fmax(std::fmax(e.dq, e.dk), std::fmax(e.dv, e.bias)); };
    switch (id % 3) {
      case 0:
        worst[0] = std::fmax(worst[0], worst_of(run_case<float>(id, p, 1e-4, false)));
        break;
      case 1:
        emulation::round_operands<__half>(p);
        worst[1] = std::fmax(worst[1], worst_of(run_case<__half>(id, p, 2e-3, false)));
        if (mma_takes<__half>(p)) worst[3] = std::fmax(worst[3], worst_of(run_case<__half>(id, p, 4e-3, true)));
        break;
      default:
        emulation::round_operands<__nv_bfloat16>(p);
        worst[2] = std::fmax(worst[2], worst_of(run_case<__nv_bfloat16>(id, p, 1.5e-2, false)));
        if (mma_takes<__nv_bfloat16>(p)) worst[4] = std::fmax(worst[4], worst_of(run_case<__nv_bfloat16>(id, p, 3e-2, true)));
        break;
    }
  }
  std::printf("backward emulation: %d cases (seed %llu), worst relative gradient error f32 %.2g, f16 %.2g, bf16 %.2g, "
              "mma f16 %.2g, mma bf16 %.2g: %s\n", cases, seed, worst[0], worst[1], worst[2], worst[3], worst[4],
              failures == 0 ? "ok" : "FAILED");
  return failures == 0 ? 0 : 1;
}
