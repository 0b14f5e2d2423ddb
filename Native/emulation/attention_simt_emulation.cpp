// Runs the real Native/attention_simt.cu source on the CPU — the kernel template compiled as host C++, each CUDA
// thread a fiber, each shuffle a warp barrier (cuda_fiber_runtime.hpp) — and compares it with the float64 port of
// Managed/Attention.Native/Reference/ReferenceAttention.cs (reference_attention.hpp) over random problems that
// cover every option: GQA, BHSD/BSHD and padded strides, masks and biases (broadcast, −∞ entries, rows left empty),
// key lengths (0 included), causal top-left/bottom-right, windows, softcap, huge scores, optional lse/probs, head
// dims across the 32-lane boundaries, f32/f16/bf16. It checks the kernel's logic (ranges, masks, online softmax,
// indexing, optional outputs, the 4·(D+Dv)-float shared-memory budget, warp-uniform shuffles) with expf/tanhf as
// approximate as CUDA documents them (device_math_emulation.hpp), not the GPU's exact arithmetic. It is no substitute
// for running on a GPU, but it runs wherever the toolkit's headers are. ./build.sh test runs it where nvcc is
// installed (Native/check.sh):
//
//   clang++-14 -std=c++20 -O1 -fno-strict-aliasing -fsanitize=alignment -fno-sanitize-link-runtime -I Native \
//     -o attention_simt_emulation Native/emulation/attention_simt_emulation.cpp
//   ./attention_simt_emulation [cases [seed [only-this-case]]]

#include "emulation/cuda_fiber_runtime.hpp"

// The kernel's `extern __shared__ float shared[]` (block scope, namespace attention).
CUDA_EMULATION_DYNAMIC_SHARED(attention, float, shared);

#include "attention_simt.cu"

#include "emulation/reference_attention.hpp"
#include "emulation/attention_check.hpp"

namespace {

using emulation::Problem;

template <typename T> struct KernelOf;
template <> struct KernelOf<float> { static constexpr auto fn = &attention_simt_f32; };
template <> struct KernelOf<__half> { static constexpr auto fn = &attention_simt_f16; };
template <> struct KernelOf<__nv_bfloat16> { static constexpr auto fn = &attention_simt_bf16; };

// Launches the kernel as Native/README.md says: grid (ceil(Lq / 4), Hq, B), block (32, 4), 4·(D+Dv) floats.
struct RunSimt {
  template <typename T>
  emulation::Outputs operator()(int, const Problem& p) const {
    const std::vector<T> q = emulation::to_elements<T>(p.q), k = emulation::to_elements<T>(p.k),
                         v = emulation::to_elements<T>(p.v);
    emulation::OutputBuffers<T> out(p);
    const size_t shared_bytes = 4 * (p.head_dim + p.value_dim) * sizeof(float);
    const dim3 grid((p.q_len + 3) / 4, p.q_heads, p.batch);
    const emulation::LaunchResult launched = emulation::launch(grid, dim3(32, 4), shared_bytes, [&] {
      KernelOf<T>::fn(out.params(p, q.data(), k.data(), v.data()));
    });
    return out.outputs(launched.shared_overrun);
  }
};

}  // namespace

int main(int argc, char** argv) {
  return emulation::run_cases(argc, argv, "simt", emulation::ProblemLimits{}, emulation::Tolerances{}, RunSimt{},
                              [](Problem&) {});
}
