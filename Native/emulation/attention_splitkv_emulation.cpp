// Runs the real Native/attention_splitkv.cu source on the CPU (cuda_fiber_runtime.hpp: each CUDA thread a fiber,
// shuffles warp barriers, __syncthreads a block barrier; with ATTENTION_EMULATION, Native/warp_matrix.cuh takes
// cp.async, ldmatrix and mma.sync from warp_matrix_emulation.hpp) — both kernels, the partial pass over 1 to 40 key
// splits and the merge — and compares O and lse with the float64 reference (reference_attention.hpp) over random
// problems covering every option the split-KV path takes: Lq ≤ 16, GQA groups spanning several blocks, BHSD/BSHD and
// padded strides (rows 16-byte aligned or not: cp.async and plain copies), masks and biases (broadcast, −∞ entries,
// empty rows), key lengths (0 included; K/V past them NaN, as in an unwritten KV cache), causal both alignments,
// windows, softcap, huge scores, optional lse, head dims 1…256, more splits than key tiles (empty splits),
// f32 (FMA pipes) and f16/bf16 (tensor cores). The workspace starts as NaN, so a split that leaves its slot
// unwritten shows; shared memory starts as NaN too. Half the cases land cp.async copies at their wait_group with
// the warps in lockstep (a read before its wait sees stale data), half at issue with the lowest warp running ahead
// (a refill before every reader is done corrupts what they read). ./build.sh test runs it where nvcc is installed:
//
//   clang++-14 -std=c++20 -O1 -fno-strict-aliasing -I Native -o attention_splitkv_emulation Native/emulation/attention_splitkv_emulation.cpp
//   ./attention_splitkv_emulation [cases [seed [only-this-case]]]

#include "emulation/cuda_fiber_runtime.hpp"

#define ATTENTION_EMULATION 1
#undef __align__
#define __align__(n) __attribute__((aligned(n)))

// The partial kernel's `extern __shared__ float4 splitkv_shared[]`.
CUDA_EMULATION_DYNAMIC_SHARED(attention::splitkv, float4, splitkv_shared);

#include "attention_splitkv.cu"

#include "emulation/reference_attention.hpp"
#include "emulation/attention_check.hpp"

namespace {

using emulation::Problem;
namespace sk = attention::splitkv;

template <typename T> struct KernelsOf;
template <> struct KernelsOf<float> {
  static constexpr auto partial = &attention_splitkv_partial_f32;
  static constexpr auto merge = &attention_splitkv_merge_f32;
};
template <> struct KernelsOf<__half> {
  static constexpr auto partial = &attention_splitkv_partial_f16;
  static constexpr auto merge = &attention_splitkv_merge_f16;
};
template <> struct KernelsOf<__nv_bfloat16> {
  static constexpr auto partial = &attention_splitkv_partial_bf16;
  static constexpr auto merge = &attention_splitkv_merge_bf16;
};

// Launches as Native/README.md says: partial over (splits · ⌈group·Lq / R⌉, Hkv, B) × 128 threads (R = 8 query
// rows a block for f16/bf16, 4 for f32), then — with more than one split — merge over (⌈Hq·Lq / 4⌉, B) × 128.
struct RunSplitKv {
  template <typename T>
  emulation::Outputs operator()(int id, const Problem& p) const {
    const std::vector<T> q = emulation::to_elements<T>(p.q), k = emulation::to_elements<T>(p.k),
                         v = emulation::to_elements<T>(p.v);
    emulation::OutputBuffers<T> out(p);
    static const int choices[] = {1, 1, 2, 3, 4, 7, 16, 40};
    const int splits = choices[id % 8 == 0 ? 0 : emulation::uniform(0, 7)];
    std::vector<float> partial_o(static_cast<size_t>(splits) * p.rows() * p.value_dim, NAN);
    std::vector<float> partial_lse(static_cast<size_t>(splits) * p.rows(), NAN);
    const int rows = sk::kRowsPerBlock<T>;
    const int chunks = (p.q_heads / p.kv_heads * p.q_len + rows - 1) / rows;
    const size_t shared_bytes = sk::partial_shared_bytes<T>(p.head_dim, p.value_dim);
    attention::AttentionParams<T> params = out.params(p, q.data(), k.data(), v.data());
    params.partial_o = partial_o.data();
    params.partial_lse = partial_lse.data();
    params.num_splits = splits;
    // Odd rounds of 6 cases: copies land at issue and the lowest warp runs ahead; even: at wait_group, in lockstep.
    emulation::copies_land_at_issue = (id / 6) % 2 == 1;
    emulation::warps_run_ahead = emulation::copies_land_at_issue;
    emulation::reset_copy_queues();
    bool overrun = emulation::launch(dim3(splits * chunks, p.kv_heads, p.batch), dim3(sk::kThreads), shared_bytes,
                                     [&] { KernelsOf<T>::partial(params); })
                       .shared_overrun;
    if (splits > 1) {
      const dim3 grid((p.q_heads * p.q_len + sk::kMergeWarps - 1) / sk::kMergeWarps, p.batch);
      overrun |= emulation::launch(grid, dim3(sk::kMergeWarps * 32), 0, [&] { KernelsOf<T>::merge(params); })
                     .shared_overrun;
    }
    return out.outputs(overrun);
  }
};

// K and V past each batch entry's key length become NaN now and then, as in an unwritten KV cache: a kernel that
// reads them (or multiplies them by a zero weight) shows it.
void poison_past_key_lengths(Problem& p) {
  if (!p.has_lengths || !emulation::chance(0.5)) return;
  for (int b = 0; b < p.batch; ++b)
    for (int h = 0; h < p.kv_heads; ++h)
      for (int j = p.lengths[b]; j < p.k_len; ++j) {
        for (int x = 0; x < p.head_dim; ++x) p.k[b * p.ks.b + h * p.ks.h + j * p.ks.s + x] = NAN;
        for (int x = 0; x < p.value_dim; ++x) p.v[b * p.vs.b + h * p.vs.h + j * p.vs.s + x] = NAN;
      }
}

}  // namespace

// The 8-bit K/V conversions (attention_splitkv_kv8.cuh) against values decoded here from the formats' definitions:
// every pair of bytes into f16 and bf16, exactly (e4m3 into f16 is the value · 2^−8; the NaN codes read as NaN).
static int check_kv8_conversions() {
  using namespace attention::splitkv;
  auto e4m3 = [](uint32_t code) {
    if ((code & 0x7Fu) == 0x7Fu) return std::nan("");
    const int exponent = (code >> 3) & 15, mantissa = code & 7;
    const double magnitude = exponent == 0 ? std::ldexp(mantissa, -9) : std::ldexp(8 + mantissa, exponent - 10);
    return (code & 0x80u) != 0 ? -magnitude : magnitude;
  };
  int failures = 0;
  auto check = [&](const char* what, uint32_t two, uint32_t reg, auto element, double factor, auto decode) {
    for (int e = 0; e < 2; ++e) {
      const double expected = decode((two >> (8 * e)) & 0xFFu);
      const double actual = element(reg, e) * factor;
      if (actual != expected && !(std::isnan(actual) && std::isnan(expected)) && failures++ < 5) {
        std::fprintf(stderr, "kv8 %s: bytes %04x element %d is %g, expected %g\n", what, two, e, actual, expected);
      }
    }
  };
  auto int8 = [](uint32_t byte) { return static_cast<double>(static_cast<int8_t>(byte)); };
  for (uint32_t two = 0; two < 0x10000u; ++two) {
    check("int8 f16", two, widen_pair<__half, kKvInt8>(two), attention::wm::element<__half>, 1.0, int8);
    check("int8 bf16", two, widen_pair<__nv_bfloat16, kKvInt8>(two), attention::wm::element<__nv_bfloat16>, 1.0, int8);
    check("e4m3 f16", two, widen_pair<__half, kKvE4m3>(two), attention::wm::element<__half>, 256.0, e4m3);
    check("e4m3 bf16", two, widen_pair<__nv_bfloat16, kKvE4m3>(two), attention::wm::element<__nv_bfloat16>, 1.0, e4m3);
  }
  std::printf("splitkv emulation: 8-bit K/V conversions of every byte pair: %s\n", failures == 0 ? "exact" : "WRONG");
  return failures == 0 ? 0 : 1;
}

int main(int argc, char** argv) {
  if (check_kv8_conversions() != 0) return 1;
  emulation::ProblemLimits limits;
  limits.max_q_len = 16;
  limits.max_k_len = 200;
  limits.max_group = 5;
  limits.probs_chance = 0;  // probabilities are attention_simt's alone
  return emulation::run_cases(argc, argv, "splitkv", limits, emulation::Tolerances{1e-5, 1e-2, 1e-2}, RunSplitKv{},
                              [](Problem& p) {
                                p.want_probs = false;
                                poison_past_key_lengths(p);
                              });
}
