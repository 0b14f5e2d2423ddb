// Runs the real Native/attention_hopper.cu source on the CPU — the sm_90a kernel compiled as host C++ with
// ATTENTION_EMULATION, so that hopper/hopper_ptx.cuh takes mbarrier, TMA, wgmma, setmaxnreg and named barriers from
// hopper_emulation.hpp (each against the PTX ISA's definition, faulting where it is undefined) and everything else is
// the kernel's own code; each CUDA thread a fiber — and compares it with the float64 reference over random problems
// covering every option the kernel takes and every head-dim bucket: GQA/MQA, BHSD/BSHD and padded strides (multiples
// of 8 elements, as TMA's 16-byte strides need), key lengths (0 included; K/V past them NaN, as in an unwritten KV
// cache, which the kernel zero-fills in shared memory), causal top-left/bottom-right, windows, softcap, huge scores,
// lse on or off, D ≠ Dv, head dims padded up to their bucket by TMA's zero fill, query and key lengths across tile
// edges and enough key blocks to wrap the stage ring. The tensor maps are encoded as the host encodes them
// (Managed/Attention.Native/Cuda/Hopper/HopperTensorMaps.cs) with the emulated cuTensorMapEncodeTiled.
// ./build.sh test runs it (Native/check.sh check):
//
//   clang++-14 -std=c++20 -O1 -I Native -o attention_hopper_emulation Native/emulation/attention_hopper_emulation.cpp
//   ./attention_hopper_emulation [cases [seed [only-this-case]]]

#include "emulation/cuda_fiber_runtime.hpp"

#define ATTENTION_EMULATION 1
#undef __launch_bounds__
#define __launch_bounds__(...)
#undef __align__
#define __align__(n) __attribute__((aligned(n)))

// The kernel's `extern __shared__ unsigned char attention_hopper_shared[]` (block scope, namespace attention::hopper).
CUDA_EMULATION_DYNAMIC_SHARED(attention::hopper, unsigned char, attention_hopper_shared);

#include "attention_hopper.cu"

#include "emulation/reference_attention.hpp"
#include "emulation/attention_check.hpp"
#include "emulation/tensor_map.hpp"

namespace {

using emulation::Problem;

template <typename T>
using Kernel = void (*)(const attention::HopperAttentionParams<T>);

// A head-dim bucket as the host launches it (Managed/Attention.Native/Cuda/Hopper/AttentionHopperGeometry.cs).
struct Bucket {
  int head_dim, block_n, shared_bytes;
  Kernel<__half> f16;
  Kernel<__nv_bfloat16> bf16;
};

template <class Tr>
constexpr Bucket bucket(Kernel<__half> f16, Kernel<__nv_bfloat16> bf16) {
  return Bucket{Tr::kHeadDim, Tr::kBlockN, Tr::kSharedBytes, f16, bf16};
}

using namespace attention::hopper;
const Bucket kBuckets[] = {
    bucket<TraitsD64>(attention_hopper_d64_f16, attention_hopper_d64_bf16),
    bucket<TraitsD128>(attention_hopper_d128_f16, attention_hopper_d128_bf16),
    bucket<TraitsD256>(attention_hopper_d256_f16, attention_hopper_d256_bf16),
};
constexpr int kBucketCount = sizeof kBuckets / sizeof kBuckets[0];
constexpr int kBlockM = 128;

// CUtensorMapDataType of cuda.h: FLOAT16 6, BFLOAT16 9.
template <typename T> constexpr uint32_t kDataType = 6;
template <> constexpr uint32_t kDataType<__nv_bfloat16> = 9;

// The host's map of a [B, H, L, D] operand (HopperTensorMapShape.Of): dims (D, L, H, B), byte strides of L, H, B
// with packed ones for extent-1 dimensions, box 64 columns × box_rows, 128-byte swizzle, zero fill.
template <typename T>
void encode(attention::hopper::TensorMap& map, const T* data, int batch, int heads, int rows, int columns,
            emulation::Strides s, int box_rows) {
  auto up16 = [](uint64_t x) { return (x + 15) / 16 * 16; };
  const uint64_t seq = rows == 1 ? 2ull * columns : 2ull * s.s;
  const uint64_t head = heads == 1 ? seq * rows : 2ull * s.h;
  const uint64_t bat = batch == 1 ? head * heads : 2ull * s.b;
  const uint64_t dims[4] = {static_cast<uint64_t>(columns), static_cast<uint64_t>(rows), static_cast<uint64_t>(heads),
                            static_cast<uint64_t>(batch)};
  const uint64_t strides[3] = {up16(seq), up16(head), up16(bat)};
  const uint32_t box[4] = {64, static_cast<uint32_t>(box_rows), 1, 1};
  const uint32_t ones[4] = {1, 1, 1, 1};
  const std::string e =
      emulation::encode_tensor_map_tiled(&map, kDataType<T>, 4, data, dims, strides, box, ones, 0, 3, 0);
  if (!e.empty()) {
    std::printf("cuTensorMapEncodeTiled: %s\n", e.c_str());
    std::exit(1);
  }
}

// Reshapes a drawn problem for bucket `which` (the larger of D and Dv in (previous bucket, bucket]); no mask, bias or
// probabilities (the kernel takes none); q/k/v rows at multiples of 8 elements, o rows even; operands refilled;
// sometimes NaN in K and V past each batch entry's key length.
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
  auto strides = [](bool bshd, int heads, int len, int dim, int multiple) {
    const int gap = (multiple - dim % multiple) % multiple + (chance(0.3) ? multiple * uniform(1, 2) : 0);
    return emulation::make_strides(bshd, heads, len, dim, gap);
  };
  const bool bshd = chance(0.5);
  p.qs = strides(bshd, p.q_heads, p.q_len, p.head_dim, 8);
  p.ks = strides(bshd, p.kv_heads, p.k_len, p.head_dim, 8);
  p.vs = strides(bshd, p.kv_heads, p.k_len, p.value_dim, 8);
  p.os = strides(chance(0.5), p.q_heads, p.q_len, p.value_dim, 2);
  p.has_mask = p.has_bias = p.want_probs = false;
  if (chance(0.5)) p.scale = 1.0f / std::sqrt(static_cast<float>(p.head_dim));
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
}

// Launches bucket `which` for T as the host does: grid (ceil(Lq / 128), Hq, B), block 384, its shared bytes.
template <typename T>
emulation::Outputs run_hopper(const Problem& p, int which) {
  const Bucket& bk = kBuckets[which];
  const std::vector<T> q = emulation::to_elements<T>(p.q), k = emulation::to_elements<T>(p.k),
                       v = emulation::to_elements<T>(p.v);
  emulation::OutputBuffers<T> out(p);
  attention::HopperAttentionParams<T> a{};
  encode(a.q_map, q.data(), p.batch, p.q_heads, p.q_len, p.head_dim, p.qs, kBlockM);
  encode(a.k_map, k.data(), p.batch, p.kv_heads, p.k_len, p.head_dim, p.ks, bk.block_n);
  encode(a.v_map, v.data(), p.batch, p.kv_heads, p.k_len, p.value_dim, p.vs, bk.block_n);
  a.o = out.o.data();
  a.lse = out.lse_or_null(p);
  a.key_lengths = p.has_lengths ? p.lengths.data() : nullptr;
  a.batch = p.batch, a.q_heads = p.q_heads, a.kv_heads = p.kv_heads, a.q_len = p.q_len, a.k_len = p.k_len;
  a.head_dim = p.head_dim, a.value_dim = p.value_dim;
  a.causal = p.causal, a.window_left = p.window_left, a.window_right = p.window_right;
  a.o_stride_b = p.os.b, a.o_stride_h = p.os.h, a.o_stride_s = p.os.s;
  a.scale = p.scale, a.softcap = p.softcap;
  Kernel<T> kernel;
  if constexpr (std::is_same_v<T, __half>) {
    kernel = bk.f16;
  } else {
    kernel = bk.bf16;
  }
  const dim3 grid((p.q_len + kBlockM - 1) / kBlockM, p.q_heads, p.batch);
  const emulation::LaunchResult launched =
      emulation::launch(grid, dim3(384), bk.shared_bytes, [&] { kernel(a); });
  return out.outputs(launched.shared_overrun);
}

}  // namespace

// `./attention_hopper_emulation [cases [seed [only-this-case]]]`: case id runs bucket id % 3 with element type
// (id / 3) % 2 (f16, bf16), each against the reference of its own rounded operands, O held to 1e-2 relative error.
int main(int argc, char** argv) {
  const int cases = argc > 1 ? std::atoi(argv[1]) : 24;
  const unsigned long long seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 20261206;
  const int only = argc > 3 ? std::atoi(argv[3]) : -1;
  emulation::rng.seed(seed);
  emulation::ProblemLimits limits;
  limits.max_q_len = 40;
  limits.probs_chance = 0;
  double worst[2][kBucketCount] = {};
  // cuda.h's CUtensorMapDataType 9 is BFLOAT16 (2 bytes), as the host encodes it; an emulated encoder that reads 9 as
  // another type cannot run the bf16 kernels, and says so rather than passing them.
  const bool bf16_maps = emulation::tensor_map_element_bytes(kDataType<__nv_bfloat16>) == 2;
  if (!bf16_maps) {
    std::printf("hopper emulation: bf16 cases skipped: emulation/tensor_map.hpp reads CUtensorMapDataType %u "
                "(BFLOAT16 in cuda.h) as a %d-byte type\n",
                kDataType<__nv_bfloat16>, emulation::tensor_map_element_bytes(kDataType<__nv_bfloat16>));
  }
  for (int id = 0; id < cases; ++id) {
    const int which = id % kBucketCount;
    const int type = bf16_maps ? (id / kBucketCount) % 2 : 0;
    // A third of the problems have keys enough to wrap the stage ring (d64: 4 stages of 128 keys).
    limits.max_k_len = emulation::chance(0.3) ? 600 : 150;
    Problem p = emulation::random_problem(limits);
    // Now and then a query length past one tile: a second row of CTAs and a partial last tile.
    if (emulation::chance(0.15)) p.q_len = emulation::uniform(kBlockM, kBlockM + 20);
    shape_for_bucket(p, which);
    if (only >= 0 && id != only) continue;
    if (only >= 0) p.want_lse = true;
    double rel;
    if (type == 0) {
      emulation::round_operands<__half>(p);
      rel = emulation::check_outputs(id, "f16", p, emulation::reference(p), run_hopper<__half>(p, which), 1e-2);
    } else {
      emulation::round_operands<__nv_bfloat16>(p);
      rel = emulation::check_outputs(id, "bf16", p, emulation::reference(p), run_hopper<__nv_bfloat16>(p, which), 1e-2);
    }
    worst[type][which] = std::fmax(worst[type][which], rel);
  }
  for (int t = 0; t < 2; ++t) {
    std::printf("hopper emulation %s worst relative output error by bucket:", t == 0 ? "f16" : "bf16");
    for (int w = 0; w < kBucketCount; ++w) std::printf(" d%d %.2g", kBuckets[w].head_dim, worst[t][w]);
    std::printf("\n");
  }
  std::printf("hopper emulation: %d cases (seed %llu): %s\n", cases, seed, emulation::failures == 0 ? "ok" : "FAILED");
  return emulation::failures == 0 ? 0 : 1;
}
