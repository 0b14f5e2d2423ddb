// Runs the real Native/additive_attention.cu source on the CPU — each CUDA thread a std::thread, each shuffle and
// __syncwarp a barrier of its warp — against a float64 Bahdanau reference over random problems: hidden sizes and
// value sizes across the 32-lane boundary, masks (broadcast and per batch), biases, key lengths (0 included), causal
// top-left/bottom-right, rows left empty, with and without probabilities. It checks the kernel's logic (ranges,
// masks, online softmax, indexing, the shared-memory layout, warp-uniform control flow), not the GPU's arithmetic.
// ./build.sh test runs it where nvcc is installed:
//
//   clang++-14 -std=c++20 -O1 -I Native -o additive_attention_emulation Native/emulation/additive_attention_emulation.cpp
//   ./additive_attention_emulation [cases [seed]]

#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <thread>
#include <vector>

// ---- CUDA on the host ---------------------------------------------------------------------------------------------
#define __global__
#define __grid_constant__
#define __launch_bounds__(...)
#define __restrict__ __restrict
#define __shared__

struct EmulatedDim {
  unsigned x, y, z;
};
thread_local EmulatedDim threadIdx;
EmulatedDim blockIdx, blockDim;

inline float __int_as_float(unsigned int bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}
template <typename T>
T __ldg(const T* p) {
  return *p;
}
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }

// One barrier and one exchange slot array per warp of the block being run.
struct EmulatedWarp {
  std::barrier<> barrier{32};
  float slots[32];
};
thread_local EmulatedWarp* this_warp;

inline void __syncwarp() { this_warp->barrier.arrive_and_wait(); }

inline float __shfl_xor_sync(unsigned, float value, int offset) {
  EmulatedWarp& w = *this_warp;
  const unsigned lane = threadIdx.x;
  w.slots[lane] = value;
  w.barrier.arrive_and_wait();
  const float other = w.slots[lane ^ offset];
  w.barrier.arrive_and_wait();
  return other;
}

// Native/check.sh compiles the emulations with -fsanitize=alignment: a typed access at an address its type's alignment
// does not divide — which a GPU faults on — stops the run (the fiber emulations report it through memory_checks.hpp).
extern "C" void __ubsan_handle_type_mismatch_v1(void*, uintptr_t pointer) {
  std::printf("emulation: misaligned address %#llx in the kernel\n", static_cast<unsigned long long>(pointer));
  std::exit(3);
}

// The block's dynamic shared memory (`extern __shared__ float shared[]` inside the extern "C" kernel).
extern "C" {
float shared[1 << 16];
}

#include "../additive_attention.cu"

// ---- The check ----------------------------------------------------------------------------------------------------
struct Problem {
  int batch, q_len, k_len, units, value_dim, causal;
  bool mask_per_batch, has_mask, has_bias, has_lengths, want_probs;
};

static double relative_error(const std::vector<double>& expected, const std::vector<float>& actual) {
  double error = 0, norm = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    const double d = actual[i] - expected[i];
    error += std::isnan(d) ? INFINITY : d * d;
    norm += expected[i] * expected[i];
  }
  return norm == 0 ? std::sqrt(error) : std::sqrt(error / norm);
}

static bool run_case(const Problem& p, std::mt19937& rng, int index) {
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  auto fill = [&](size_t n, float scale) {
    std::vector<float> v(n);
    for (auto& x : v) x = scale * uniform(rng);
    return v;
  };
  const int mask_batches = p.mask_per_batch ? p.batch : 1;
  auto queries = fill((size_t)p.batch * p.q_len * p.units, 1.5f);
  auto keys = fill((size_t)p.batch * p.k_len * p.units, 1.5f);
  auto v = fill(p.units, 1.0f);
  auto values = fill((size_t)p.batch * p.k_len * p.value_dim, 1.0f);
  auto bias = fill((size_t)mask_batches * p.q_len * p.k_len, 2.0f);
  std::vector<unsigned char> mask((size_t)mask_batches * p.q_len * p.k_len);
  for (auto& m : mask) m = (rng() % 4) != 0;
  std::vector<int> lengths(p.batch);
  for (auto& l : lengths) l = (int)(rng() % (p.k_len + 1));
  std::vector<float> output((size_t)p.batch * p.q_len * p.value_dim, NAN);
  std::vector<float> probs((size_t)p.batch * p.q_len * p.k_len, NAN);

  attention::AdditiveAttentionParams params{};
  params.queries = queries.data(), params.keys = keys.data(), params.score_vector = v.data();
  params.values = values.data(), params.output = output.data();
  params.probs = p.want_probs ? probs.data() : nullptr;
  params.mask = p.has_mask ? mask.data() : nullptr;
  params.bias = p.has_bias ? bias.data() : nullptr;
  params.key_lengths = p.has_lengths ? lengths.data() : nullptr;
  params.batch = p.batch, params.q_len = p.q_len, params.k_len = p.k_len, params.units = p.units;
  params.value_dim = p.value_dim;
  params.mask_stride_b = params.bias_stride_b = p.mask_per_batch ? (long long)p.q_len * p.k_len : 0;
  params.causal = p.causal;

  blockDim = {32, 4, 1};
  for (unsigned by = 0; by < (unsigned)p.batch; ++by) {
    for (unsigned bx = 0; bx < (unsigned)((p.q_len + 3) / 4); ++bx) {
      blockIdx = {bx, by, 0};
      auto warps = std::make_unique<EmulatedWarp[]>(4);
      std::vector<std::thread> threads;
      for (unsigned t = 0; t < 128; ++t) {
        threads.emplace_back([&, t] {
          threadIdx = {t % 32, t / 32, 0};
          this_warp = &warps[t / 32];
          additive_attention_f32(params);
        });
      }
      for (auto& t : threads) t.join();
    }
  }

  std::vector<double> expected_output(output.size()), expected_probs(probs.size());
  for (int b = 0; b < p.batch; ++b) {
    const int length = p.has_lengths ? lengths[b] : p.k_len;
    const size_t plane = p.mask_per_batch ? (size_t)b * p.q_len * p.k_len : 0;
    for (int i = 0; i < p.q_len; ++i) {
      std::vector<double> s(p.k_len, -INFINITY);
      double m = -INFINITY;
      for (int j = 0; j < p.k_len; ++j) {
        bool allowed = j < length && (!p.has_mask || mask[plane + (size_t)i * p.k_len + j]);
        if (p.causal == 1) allowed &= j <= i;
        if (p.causal == 2) allowed &= j <= i + length - p.q_len;
        if (!allowed) continue;
        double score = 0;
        for (int u = 0; u < p.units; ++u) {
          score += (double)v[u] * std::tanh((double)queries[((size_t)b * p.q_len + i) * p.units + u] +
                                            keys[((size_t)b * p.k_len + j) * p.units + u]);
        }
        s[j] = score + (p.has_bias ? bias[plane + (size_t)i * p.k_len + j] : 0.0);
        m = std::max(m, s[j]);
      }
      if (m == -INFINITY) continue;
      double l = 0;
      for (int j = 0; j < p.k_len; ++j) l += std::exp(s[j] - m);
      for (int j = 0; j < p.k_len; ++j) {
        const double w = std::exp(s[j] - m) / l;
        expected_probs[((size_t)b * p.q_len + i) * p.k_len + j] = w;
        for (int c = 0; c < p.value_dim; ++c) {
          expected_output[((size_t)b * p.q_len + i) * p.value_dim + c] += w * values[((size_t)b * p.k_len + j) * p.value_dim + c];
        }
      }
    }
  }

  double error = relative_error(expected_output, output);
  if (p.want_probs) error = std::max(error, relative_error(expected_probs, probs));
  const bool ok = error <= 1e-5;
  if (!ok) {
    std::printf("case %d FAILED: B=%d Tq=%d Tk=%d U=%d Dv=%d causal=%d mask=%d/%d bias=%d lengths=%d probs=%d: error %.3g\n",
                index, p.batch, p.q_len, p.k_len, p.units, p.value_dim, p.causal, p.has_mask, p.mask_per_batch,
                p.has_bias, p.has_lengths, p.want_probs, error);
  }
  return ok;
}

int main(int argc, char** argv) {
  const int cases = argc > 1 ? std::atoi(argv[1]) : 40;
  std::mt19937 rng(argc > 2 ? (unsigned)std::atoi(argv[2]) : 2024u);
  const int units_choices[] = {1, 7, 31, 32, 33, 64, 97};
  const int dims[] = {1, 5, 32, 33, 70};
  int failed = 0;
  for (int index = 0; index < cases; ++index) {
    Problem p{};
    p.batch = 1 + (int)(rng() % 3);
    p.q_len = 1 + (int)(rng() % 11);
    p.k_len = 1 + (int)(rng() % 40);
    p.units = units_choices[rng() % 7];
    p.value_dim = dims[rng() % 5];
    p.causal = (int)(rng() % 3);
    p.has_mask = rng() % 2;
    p.mask_per_batch = rng() % 2;
    p.has_bias = rng() % 2;
    p.has_lengths = rng() % 2;
    p.want_probs = rng() % 2;
    failed += run_case(p, rng, index) ? 0 : 1;
  }
  std::printf("additive_attention emulation: %d of %d cases match the float64 reference\n", cases - failed, cases);
  return failed == 0 ? 0 : 1;
}
