// Runs the real Native/attention_splitkv.cu source on the CPU (cuda_fiber_runtime.hpp: each CUDA thread a fiber,
// shuffles warp barriers, __syncthreads a block barrier) — both kernels, the partial pass over 1 to 40 key splits
// and the merge — and compares O and lse with the float64 reference (reference_attention.hpp) over random problems
// covering every option the split-KV path takes: Lq ≤ 16, GQA groups spanning several 16-row blocks, BHSD/BSHD and
// padded strides (rows 16-byte aligned or not: vector and scalar loads), masks and biases (broadcast, −∞ entries,
// empty rows), key lengths (0 included), causal both alignments, windows, softcap, huge scores, optional lse, head
// dims 1…256, more splits than key tiles (empty splits), f32/f16/bf16. The workspace starts as NaN, so a split that
// leaves its slot unwritten shows. ./build.sh test runs it where nvcc is installed:
//
//   clang++-14 -std=c++20 -O1 -fno-strict-aliasing -I Native -o attention_splitkv_emulation Native/emulation/attention_splitkv_emulation.cpp
//   ./attention_splitkv_emulation [cases [seed [only-this-case]]]

#include "emulation/cuda_fiber_runtime.hpp"

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

// Launches as Native/README.md says: partial over (splits · ⌈group·Lq / 16⌉, Hkv, B) × 128 threads, then — with
// more than one split — merge over (⌈Hq·Lq / 4⌉, B) × 128 threads.
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
    const int chunks = (p.q_heads / p.kv_heads * p.q_len + sk::kRows - 1) / sk::kRows;
    const size_t shared_bytes = sk::partial_shared_floats(p.head_dim, p.value_dim) * sizeof(float);
    attention::AttentionParams<T> params = out.params(p, q.data(), k.data(), v.data());
    params.partial_o = partial_o.data();
    params.partial_lse = partial_lse.data();
    params.num_splits = splits;
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

}  // namespace

int main(int argc, char** argv) {
  emulation::ProblemLimits limits;
  limits.max_q_len = 16;
  limits.max_k_len = 200;
  limits.max_group = 5;
  limits.probs_chance = 0;  // probabilities are attention_simt's alone
  return emulation::run_cases(argc, argv, "splitkv", limits, emulation::Tolerances{1e-5, 1e-2, 1e-2}, RunSplitKv{},
                              [](Problem& p) { p.want_probs = false; });
}
