// Runs the real Native/attention_mma.cu source on the CPU — the kernel template compiled as host C++ with
// ATTENTION_EMULATION, so that Native/warp_matrix.cuh takes mma.sync, ldmatrix and cp.async from
// warp_matrix_emulation.hpp (warp-cooperative, with the PTX ISA's fragment layouts) and everything else is the
// kernel's own code; each CUDA thread a fiber (cuda_fiber_runtime.hpp) — and compares it with the float64 reference
// (reference_attention.hpp) over random problems covering every option the kernel takes and every head-dim bucket:
// GQA/MQA, BHSD/BSHD and padded strides (multiples of 8 elements, as 16-byte cp.async needs), masks and biases
// (broadcast, −∞ entries, empty rows), key lengths (0 included; K/V past them NaN, as in an unwritten KV cache),
// causal top-left/bottom-right, windows, softcap, huge scores, lse on or off, D ≠ Dv, head dims padded up to their
// bucket, query and key lengths across tile edges. It checks the kernel's logic — fragment layouts, swizzle, tile
// edges, block skipping, masking, online softmax, cp.async ordering (copies land at their wait_group in some cases,
// at issue in others; shared memory starts as NaN), shared-memory bounds — not the GPU's arithmetic.
// ./build.sh test runs it:
//
//   clang++-14 -std=c++20 -O1 -I Native -o attention_mma_emulation Native/emulation/attention_mma_emulation.cpp
//   ./attention_mma_emulation [cases [seed [only-this-case]]]

#include "emulation/cuda_fiber_runtime.hpp"

#define ATTENTION_EMULATION 1
#undef __launch_bounds__
#define __launch_bounds__(...)
#undef __align__
#define __align__(n) __attribute__((aligned(n)))

// The kernel's `extern __shared__ unsigned char attention_mma_shared[]` (block scope, namespace attention::mma).
CUDA_EMULATION_DYNAMIC_SHARED(attention::mma, unsigned char, attention_mma_shared);

#include "attention_mma.cu"
#include "attention_mma_tf32.cu"

#include "emulation/reference_attention.hpp"
#include "emulation/attention_check.hpp"

namespace {

using emulation::Problem;

// An entry point of one element type, and its tile as the host launches it
// (Managed/Attention.Native/Cuda/AttentionMmaGeometry.cs).
template <typename T>
using Kernel = void (*)(const attention::AttentionParams<T>);

template <typename T>
struct Launch {
  int block_m, threads, shared_bytes;
  Kernel<T> kernel;
};

template <class Tile, typename T>
constexpr Launch<T> launch_of(Kernel<T> kernel) {
  return Launch<T>{Tile::kBlockM, Tile::kThreads, Tile::kSharedBytes, kernel};
}

// A head-dim bucket: attention_mma's f16/bf16 kernels and the TF32 kernel for float, each with its own tile.
struct Bucket {
  int head_dim;
  Launch<__half> f16;
  Launch<__nv_bfloat16> bf16;
  Launch<float> f32;
};

template <class Tile, class TileTf32>
constexpr Bucket bucket(Kernel<__half> f16, Kernel<__nv_bfloat16> bf16, Kernel<float> f32) {
  static_assert(Tile::kHeadDim == TileTf32::kHeadDim, "one bucket, one head dim");
  return Bucket{Tile::kHeadDim, launch_of<Tile>(f16), launch_of<Tile>(bf16), launch_of<TileTf32>(f32)};
}

using namespace attention::mma;
const Bucket kBuckets[] = {
    bucket<TileD32, TileTf32D32>(attention_mma_d32_f16, attention_mma_d32_bf16, attention_mma_d32_f32),
    bucket<TileD64, TileTf32D64>(attention_mma_d64_f16, attention_mma_d64_bf16, attention_mma_d64_f32),
    bucket<TileD96, TileTf32D96>(attention_mma_d96_f16, attention_mma_d96_bf16, attention_mma_d96_f32),
    bucket<TileD128, TileTf32D128>(attention_mma_d128_f16, attention_mma_d128_bf16, attention_mma_d128_f32),
    bucket<TileD160, TileTf32D160>(attention_mma_d160_f16, attention_mma_d160_bf16, attention_mma_d160_f32),
    bucket<TileD192, TileTf32D192>(attention_mma_d192_f16, attention_mma_d192_bf16, attention_mma_d192_f32),
    bucket<TileD256, TileTf32D256>(attention_mma_d256_f16, attention_mma_d256_bf16, attention_mma_d256_f32),
};
constexpr int kBucketCount = sizeof kBuckets / sizeof kBuckets[0];

template <typename T> const Launch<T>& launch_for(const Bucket& b);
template <> const Launch<__half>& launch_for<__half>(const Bucket& b) { return b.f16; }
template <> const Launch<__nv_bfloat16>& launch_for<__nv_bfloat16>(const Bucket& b) { return b.bf16; }
template <> const Launch<float>& launch_for<float>(const Bucket& b) { return b.f32; }

// TF32 operands as the kernel hands them to the tensor cores (to_tf32 is the emulated cvt.rna.tf32.f32).
void round_operands_tf32(Problem& p) {
  for (auto* x : {&p.q, &p.k, &p.v})
    for (auto& e : *x) {
      const uint32_t bits = attention::wm::to_tf32(e);
      std::memcpy(&e, &bits, 4);
    }
}

// Reshapes a drawn problem for bucket `which`: the larger of D and Dv in (previous bucket, bucket] (so the host
// would pick this one), the other anywhere up to it; row strides padded to multiples of 8 elements (16 bytes), the
// layouts and gaps redrawn; operands refilled; sometimes NaN in K and V past each batch entry's key length.
void shape_for_bucket(Problem& p, int which) {
  using emulation::chance;
  using emulation::uniform;
  const int top = kBuckets[which].head_dim;
  const int floor = which == 0 ? 1 : kBuckets[which - 1].head_dim + 1;
  const int wide = chance(0.5) ? top : uniform(floor, top);
  const int other = chance(0.5) ? wide : uniform(1, top);
  if (chance(0.5)) {
    p.head_dim = wide, p.value_dim = other;
  } else {
    p.head_dim = other, p.value_dim = wide;
  }
  auto strides = [](bool bshd, int heads, int len, int dim) {
    const int gap = (8 - dim % 8) % 8 + (chance(0.3) ? 8 * uniform(1, 2) : 0);
    return emulation::make_strides(bshd, heads, len, dim, gap);
  };
  const bool bshd = chance(0.5);
  p.qs = strides(bshd, p.q_heads, p.q_len, p.head_dim);
  p.ks = strides(bshd, p.kv_heads, p.k_len, p.head_dim);
  p.vs = strides(bshd, p.kv_heads, p.k_len, p.value_dim);
  p.os = strides(chance(0.5), p.q_heads, p.q_len, p.value_dim);
  if (p.scale == 1.0f / std::sqrt(32.0f) || chance(0.5)) p.scale = 1.0f / std::sqrt(static_cast<float>(p.head_dim));
  auto fill = [&](std::vector<float>& x, long long n) {
    x.resize(n);
    for (auto& e : x) e = p.magnitude * emulation::uniformf(-1.0f, 1.0f);
  };
  fill(p.q, emulation::extent(p.qs, p.batch, p.q_heads, p.q_len, p.head_dim));
  fill(p.k, emulation::extent(p.ks, p.batch, p.kv_heads, p.k_len, p.head_dim));
  fill(p.v, emulation::extent(p.vs, p.batch, p.kv_heads, p.k_len, p.value_dim));
  if (p.has_lengths && chance(0.5)) {
    for (int b = 0; b < p.batch; ++b)
      for (int h = 0; h < p.kv_heads; ++h)
        for (int j = p.lengths[b]; j < p.k_len; ++j) {
          for (int x = 0; x < p.head_dim; ++x) p.k[b * p.ks.b + h * p.ks.h + j * p.ks.s + x] = NAN;
          for (int x = 0; x < p.value_dim; ++x) p.v[b * p.vs.b + h * p.vs.h + j * p.vs.s + x] = NAN;
        }
  }
  p.want_probs = false;
}

// Launches bucket `which` for T as the host does: grid (ceil(Lq / block_m), Hq, B), block `threads`, its shared bytes.
template <typename T>
emulation::Outputs run_mma(const Problem& p, int which) {
  const Launch<T>& bk = launch_for<T>(kBuckets[which]);
  const std::vector<T> q = emulation::to_elements<T>(p.q), k = emulation::to_elements<T>(p.k),
                       v = emulation::to_elements<T>(p.v);
  emulation::OutputBuffers<T> out(p);
  emulation::reset_copy_queues();
  const dim3 grid((p.q_len + bk.block_m - 1) / bk.block_m, p.q_heads, p.batch);
  const emulation::LaunchResult launched = emulation::launch(grid, dim3(bk.threads), bk.shared_bytes, [&] {
    bk.kernel(out.params(p, q.data(), k.data(), v.data()));
  });
  return out.outputs(launched.shared_overrun);
}

}  // namespace

constexpr const char* kTypeNames[3] = {"f16", "bf16", "f32"};

// `./attention_mma_emulation [cases [seed [only-this-case]]]`: case id runs bucket id % 7 with element type
// (id / 7) % 3 (f16, bf16, f32 on TF32). f16/bf16 are checked against the reference of their own rounded operands,
// O held to 1e-2 relative error. f32 twice, O held to 5e-4 both times: against the reference of its operands rounded
// to TF32 (only P's rounding and fp32 sums remain: the kernel's logic), and against the float64 reference of the
// float operands themselves (what a caller gets: scores then carry up to 2^-10 of the row's magnitude, so lse's
// tolerance widens to 1e-3 of it) — except where the scores are large, whose rounding errors (up to 1e-3 of the row's
// magnitude scale · Σ|q·k|) move the softmax weights themselves: for magnitudes past kOrdinaryMagnitude (huge
// operands, or large explicit scales) the worst error is printed, not held to 5e-4.
// Scale 1/√D on [-1, 1] operands gives about √D / 4 (4 at D = 256). The output error grows with the magnitude:
// seed 7 drew 6.4e-4 at D = 5 with an explicit scale of 3.2 (magnitude about 16).
constexpr double kOrdinaryMagnitude = 8;

int main(int argc, char** argv) {
  const int cases = argc > 1 ? std::atoi(argv[1]) : 210;
  const unsigned long long seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 20251129;
  const int only = argc > 3 ? std::atoi(argv[3]) : -1;
  emulation::rng.seed(seed);
  emulation::ProblemLimits limits;
  limits.max_q_len = 40;
  limits.probs_chance = 0;
  double worst[3][kBucketCount] = {};
  double worst_float64[2][kBucketCount] = {};  // f32 against the unrounded operands: ordinary, large scores
  for (int id = 0; id < cases; ++id) {
    const int which = id % kBucketCount;
    const int type = (id / kBucketCount) % 3;
    const int block_m = type == 2 ? kBuckets[which].f32.block_m : kBuckets[which].f16.block_m;
    // A quarter of the problems have keys enough for 4-5 blocks, so that both K/V stages are refilled.
    limits.max_k_len = emulation::chance(0.25) ? 300 : 150;
    Problem p = emulation::random_problem(limits);
    // Now and then a query length past one tile, so that a second row of CTAs and a partial last tile run.
    if (emulation::chance(0.15)) p.q_len = emulation::uniform(block_m, block_m + 20);
    if (p.has_mask || p.has_bias) p = emulation::random_problem(limits), p.q_len = std::min(p.q_len, 40);
    shape_for_bucket(p, which);
    if (only >= 0 && id != only) continue;
    if (only >= 0) p.want_lse = true;
    // Even rounds over the buckets: copies land late, warps in lockstep (read-before-wait races). Odd rounds: copies
    // land at once and the lowest warp runs ahead (refill-while-read races). See warp_matrix_emulation.hpp and
    // cuda_fiber_runtime.hpp.
    emulation::copies_land_at_issue = (id / (3 * kBucketCount)) % 2 == 1;
    emulation::warps_run_ahead = emulation::copies_land_at_issue;
    double rel;
    if (type == 0) {
      emulation::round_operands<__half>(p);
      rel = emulation::check_outputs(id, "f16", p, emulation::reference(p), run_mma<__half>(p, which), 1e-2);
    } else if (type == 1) {
      emulation::round_operands<__nv_bfloat16>(p);
      rel = emulation::check_outputs(id, "bf16", p, emulation::reference(p), run_mma<__nv_bfloat16>(p, which), 1e-2);
    } else {
      const emulation::Outputs run = run_mma<float>(p, which);
      const emulation::Result float64 = emulation::reference(p);
      double magnitude = 0;
      for (double m : float64.magnitude) magnitude = std::fmax(magnitude, m);
      const bool huge = magnitude > kOrdinaryMagnitude;
      round_operands_tf32(p);
      rel = emulation::check_outputs(id, "f32 (tf32 operands)", p, emulation::reference(p), run, 5e-4);
      const double raw = emulation::check_outputs(id, "f32", p, float64, run, huge ? INFINITY : 5e-4, 1e-3);
      worst_float64[huge][which] = std::fmax(worst_float64[huge][which], raw);
    }
    worst[type][which] = std::fmax(worst[type][which], rel);
  }
  auto print = [](const char* what, const double (&by_bucket)[kBucketCount]) {
    std::printf("mma emulation %s worst relative output error by bucket:", what);
    for (int w = 0; w < kBucketCount; ++w) std::printf(" d%d %.2g", kBuckets[w].head_dim, by_bucket[w]);
    std::printf("\n");
  };
  for (int t = 0; t < 3; ++t) print(t == 2 ? "f32 vs TF32-rounded operands" : kTypeNames[t], worst[t]);
  print("f32 vs float64 (score magnitude <= 8)", worst_float64[0]);
  print("f32 vs float64 (larger scores, not held to 5e-4)", worst_float64[1]);
  std::printf("mma emulation: %d cases (seed %llu): %s\n", cases, seed, emulation::failures == 0 ? "ok" : "FAILED");
  return emulation::failures == 0 ? 0 : 1;
}
