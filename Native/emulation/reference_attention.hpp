// The emulations' problems and their float64 reference: random attention problems that cover every option of the
// API, and a port of Managed/Attention.Native/Reference/ReferenceAttention.cs (ReferenceAttention.Compute, term for
// term). Host-only; include after cuda_fiber_runtime.hpp (it uses the CUDA half/bfloat16 types).
#pragma once

#include <cmath>
#include <random>
#include <vector>

namespace emulation {

inline std::mt19937_64 rng;
inline int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
inline float uniformf(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(rng); }
inline bool chance(double p) { return std::bernoulli_distribution(p)(rng); }

struct Strides {
  long long b, h, s;
};

// BHSD or BSHD with an optional gap after each row, like a slice of a wider tensor.
inline Strides make_strides(bool bshd, int heads, int len, int dim, int gap) {
  const long long row = dim + gap;
  return bshd ? Strides{static_cast<long long>(len) * heads * row, row, heads * row}
              : Strides{static_cast<long long>(heads) * len * row, static_cast<long long>(len) * row, row};
}

// Elements from the first to one past the last of a [batch, heads, len, dim] tensor with these strides.
inline long long extent(Strides s, int batch, int heads, int len, int dim) {
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

  // Mask and bias strides in elements, 0 where broadcast; their rows are k_len apart.
  long long score_stride_b(int batch_n, int heads_n) const {
    return batch_n == 1 ? 0 : static_cast<long long>(heads_n) * q_len * k_len;
  }
  long long score_stride_h(int heads_n) const { return heads_n == 1 ? 0 : static_cast<long long>(q_len) * k_len; }
  long long mask_stride_b() const { return has_mask ? score_stride_b(mask_batch, mask_heads) : 0; }
  long long mask_stride_h() const { return has_mask ? score_stride_h(mask_heads) : 0; }
  long long bias_stride_b() const { return has_bias ? score_stride_b(bias_batch, bias_heads) : 0; }
  long long bias_stride_h() const { return has_bias ? score_stride_h(bias_heads) : 0; }
  long long rows() const { return static_cast<long long>(batch) * q_heads * q_len; }
};

// The sizes random_problem draws from (the defaults are the SIMT emulation's).
struct ProblemLimits {
  int max_q_len = 11;
  int max_k_len = 45;
  int max_group = 3;          // query heads per key/value head
  double probs_chance = 0.7;  // how often the problem asks for probabilities
};

inline Problem random_problem(const ProblemLimits& limits = {}) {
  Problem p{};
  p.batch = uniform(1, 2);
  p.kv_heads = uniform(1, 2);
  p.q_heads = p.kv_heads * uniform(1, limits.max_group);
  p.q_len = chance(0.2) ? 1 : uniform(1, limits.max_q_len);
  p.k_len = chance(0.2) ? uniform(1, 3) : uniform(1, limits.max_k_len);
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
  p.want_probs = chance(limits.probs_chance);

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

struct Result {
  std::vector<double> o, lse, probs;  // [B, Hq, Lq, Dv], [B, Hq, Lq], [B, Hq, Lq, Lk]
  // Per row, max over visible keys of scale · Σ|q_x·k_x|: what the rounding error of a float dot product scales
  // with. Scores that cancel from large terms are only that accurate in any fp32 kernel.
  std::vector<double> magnitude;
};

// ReferenceAttention.Compute in float64. A row with no visible key gets O = 0, lse = −∞ and probabilities 0.
inline Result reference(const Problem& p) {
  Result r;
  const int lq = p.q_len, lk = p.k_len;
  r.o.assign(static_cast<size_t>(p.rows()) * p.value_dim, 0.0);
  r.lse.assign(static_cast<size_t>(p.rows()), 0.0);
  r.magnitude.assign(r.lse.size(), 0.0);
  r.probs.assign(static_cast<size_t>(p.rows()) * lk, 0.0);
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

}  // namespace emulation
