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

#include "emulation/reference_attention.hpp"
#include "emulation/attention_check.hpp"

namespace {

using emulation::Problem;

// The buckets and their tiles, as the host launches them (Managed/Attention.Native/Cuda/AttentionMmaGeometry.cs).
struct Bucket {
  int head_dim, block_m, threads, shared_bytes;
  void (*f16)(const __half*, const __half*, const __half*, __half*, float*, const unsigned char*, const float*,
              const int*, int, int, int, int, int, int, int, long long, long long, long long, long long, long long,
              long long, long long, long long, long long, long long, long long, long long, long long, long long,
              long long, long long, float, float, int, int, int);
  void (*bf16)(const __nv_bfloat16*, const __nv_bfloat16*, const __nv_bfloat16*, __nv_bfloat16*, float*,
               const unsigned char*, const float*, const int*, int, int, int, int, int, int, int, long long,
               long long, long long, long long, long long, long long, long long, long long, long long, long long,
               long long, long long, long long, long long, long long, long long, float, float, int, int, int);
};

template <class Tile>
constexpr Bucket bucket(decltype(Bucket::f16) f16, decltype(Bucket::bf16) bf16) {
  return Bucket{Tile::kHeadDim, Tile::kBlockM, Tile::kThreads, Tile::kSharedBytes, f16, bf16};
}

using namespace attention::mma;
const Bucket kBuckets[] = {
    bucket<TileD32>(attention_mma_d32_f16, attention_mma_d32_bf16),
    bucket<TileD64>(attention_mma_d64_f16, attention_mma_d64_bf16),
    bucket<TileD96>(attention_mma_d96_f16, attention_mma_d96_bf16),
    bucket<TileD128>(attention_mma_d128_f16, attention_mma_d128_bf16),
    bucket<TileD160>(attention_mma_d160_f16, attention_mma_d160_bf16),
    bucket<TileD192>(attention_mma_d192_f16, attention_mma_d192_bf16),
    bucket<TileD256>(attention_mma_d256_f16, attention_mma_d256_bf16),
};
constexpr int kBucketCount = sizeof kBuckets / sizeof kBuckets[0];

template <typename T> auto kernel_of(const Bucket& b) { return b.f16; }
template <> auto kernel_of<__nv_bfloat16>(const Bucket& b) { return b.bf16; }

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

// Launches bucket `which` for T as the host does: grid (ceil(Lq / kBlockM), Hq, B), block kThreads, its shared bytes.
template <typename T>
emulation::Outputs run_mma(const Problem& p, int which) {
  const Bucket& bk = kBuckets[which];
  const std::vector<T> q = emulation::to_elements<T>(p.q), k = emulation::to_elements<T>(p.k),
                       v = emulation::to_elements<T>(p.v);
  emulation::OutputBuffers<T> out(p);
  emulation::reset_copy_queues();
  const dim3 grid((p.q_len + bk.block_m - 1) / bk.block_m, p.q_heads, p.batch);
  const emulation::LaunchResult launched = emulation::launch(grid, dim3(bk.threads), bk.shared_bytes, [&] {
    kernel_of<T>(bk)(q.data(), k.data(), v.data(), out.o.data(), out.lse_or_null(p),
                     p.has_mask ? p.mask.data() : nullptr, p.has_bias ? p.bias.data() : nullptr,
                     p.has_lengths ? p.lengths.data() : nullptr, p.batch, p.q_heads, p.kv_heads, p.q_len, p.k_len,
                     p.head_dim, p.value_dim, p.qs.b, p.qs.h, p.qs.s, p.ks.b, p.ks.h, p.ks.s, p.vs.b, p.vs.h, p.vs.s,
                     p.os.b, p.os.h, p.os.s, p.mask_stride_b(), p.mask_stride_h(), p.bias_stride_b(),
                     p.bias_stride_h(), p.scale, p.softcap, p.causal, p.window_left, p.window_right);
  });
  return out.outputs(launched.shared_overrun);
}

}  // namespace

// `./attention_mma_emulation [cases [seed [only-this-case]]]`: case id runs bucket id % 7, f16 for even id / 7 and
// bf16 for odd, each against the reference of its own rounded operands, O held to 1e-2 relative error.
int main(int argc, char** argv) {
  const int cases = argc > 1 ? std::atoi(argv[1]) : 140;
  const unsigned long long seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 20251129;
  const int only = argc > 3 ? std::atoi(argv[3]) : -1;
  emulation::rng.seed(seed);
  emulation::ProblemLimits limits;
  limits.max_q_len = 40;
  limits.probs_chance = 0;
  double worst[2][kBucketCount] = {};
  for (int id = 0; id < cases; ++id) {
    const int which = id % kBucketCount;
    // A quarter of the problems have keys enough for 4-5 blocks, so that both K/V stages are refilled.
    limits.max_k_len = emulation::chance(0.25) ? 300 : 150;
    Problem p = emulation::random_problem(limits);
    // Now and then a query length past one tile, so that a second row of CTAs and a partial last tile run.
    if (emulation::chance(0.15)) p.q_len = emulation::uniform(kBuckets[which].block_m, kBuckets[which].block_m + 20);
    if (p.has_mask || p.has_bias) p = emulation::random_problem(limits), p.q_len = std::min(p.q_len, 40);
    shape_for_bucket(p, which);
    if (only >= 0 && id != only) continue;
    if (only >= 0) p.want_lse = true;
    const bool bf16 = (id / kBucketCount) % 2 == 1;
    // Even rounds over the buckets: copies land late, warps in lockstep (read-before-wait races). Odd rounds: copies
    // land at once and the lowest warp runs ahead (refill-while-read races). See warp_matrix_emulation.hpp and
    // cuda_fiber_runtime.hpp.
    emulation::copies_land_at_issue = (id / (2 * kBucketCount)) % 2 == 1;
    emulation::warps_run_ahead = emulation::copies_land_at_issue;
    double rel;
    if (bf16) {
      emulation::round_operands<__nv_bfloat16>(p);
      rel = emulation::check_outputs(id, "bf16", p, emulation::reference(p), run_mma<__nv_bfloat16>(p, which), 1e-2);
    } else {
      emulation::round_operands<__half>(p);
      rel = emulation::check_outputs(id, "f16", p, emulation::reference(p), run_mma<__half>(p, which), 1e-2);
    }
    worst[bf16][which] = std::fmax(worst[bf16][which], rel);
  }
  for (int t = 0; t < 2; ++t) {
    std::printf("mma emulation %s worst relative output error by bucket:", t == 0 ? "f16 " : "bf16");
    for (int w = 0; w < kBucketCount; ++w) std::printf(" d%d %.2g", kBuckets[w].head_dim, worst[t][w]);
    std::printf("\n");
  }
  std::printf("mma emulation: %d cases (seed %llu): %s\n", cases, seed, emulation::failures == 0 ? "ok" : "FAILED");
  return emulation::failures == 0 ? 0 : 1;
}
