// Holds the Hopper emulation (hopper_emulation.hpp, the ATTENTION_EMULATION side of Native/hopper/hopper_ptx.cuh) to
// the PTX ISA: a warp-specialised GEMM — a producer warpgroup loading A and B tiles by TMA into a two-stage mbarrier
// pipeline, two consumer warpgroups multiplying them with wgmma — against a host GEMM in float64, over every swizzle
// (none, 32B, 64B, 128B), K-major and MN-major B, f16 and bf16, N = 64, 96, 128, 256, tile edges (zero-filled by the
// TMA) and the RS form; then planted mistakes, each of which must fault (or, where a GPU would silently compute
// garbage, give a wrong product) while the correct variant passes:
//   wrong swizzle in the wgmma descriptor, a missing fence.proxy.async after ordinary stores of an operand, a missing
//   fence.mbarrier_init, expect-tx byte counts too high (a deadlock reported, not a hang) and too low, a missing
//   wgmma.fence, accumulators read or written before wgmma.wait_group, a consumer that does not wait for the TMA, a
//   producer that refills a stage without waiting for its release and consumers that release it before their wgmmas
//   retire (both with TMA loads landing at issue),
//   setmaxnreg that is not warpgroup-uniform or over the SM's registers, named-barrier counts that disagree; and TMA
//   boxes (3-d, 4-d, edges), TMA stores, mbarrier rules and cuTensorMapEncodeTiled's argument checks.
// ./build.sh test runs it with the other emulations (Native/check.sh check):
//
//   clang++-14 -std=c++20 -O1 -I Native -o hopper_selftest Native/emulation/hopper_selftest.cpp && ./hopper_selftest

#include "emulation/cuda_fiber_runtime.hpp"

#define ATTENTION_EMULATION 1

CUDA_EMULATION_DYNAMIC_SHARED(hopper_selftest, unsigned char, smem);

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "emulation/device/kernel_params.hpp"
#include "hopper/hopper_ptx.cuh"

namespace hopper_selftest {

namespace hp = attention::hopper;

// What a case plants in the kernel (kNone: the correct kernel).
enum class Mistake {
  kNone,
  kWrongSwizzle,        // the descriptors name a swizzle other than the TMA's
  kNoProxyFence,        // A is stored by ordinary stores, without fence.proxy.async before the wgmma
  kNoBarrierInitFence,  // no fence.mbarrier_init after mbarrier.init
  kExpectTooMany,       // expect-tx 16 bytes more than the copies bring
  kExpectTooFew,        // 16 bytes fewer
  kNoWgmmaFence,        // no wgmma.fence before a batch
  kReadBeforeWait,      // the epilogue reads the accumulators before wgmma.wait_group
  kWriteBeforeWait,     // the accumulators are cleared while the wgmma is in flight
  kNoFullWait,          // consumers multiply without waiting for the stage's TMA
  kSetmaxnregSplit,     // one consumer warp asks for a different register count
  kSetmaxnregTooMany,   // consumers ask for 256 registers each (3 × 128 × 256 > 65536)
  kNamedBarrierCounts,  // the producer arrives on a named barrier with another count than the consumers wait for
  kMisalignedTile,      // A's descriptor starts one row into its 128B swizzle pattern, base offset 0
  kWarpsDisagree,       // one warp of a warpgroup gives another B descriptor
  kNoEmptyWait,         // the producer refills a stage without waiting for the consumers to release it
  kEarlyRelease,        // consumers release a stage before their wgmmas reading it have retired
};

struct Params {
  const hp::TensorMap* map_a;  // A: M × K, K contiguous; box kBox × 128
  const hp::TensorMap* map_b;  // K-major: N × K, K contiguous, box kBox × N; MN-major: K × N, box kBox(N) × 64
  float* c;                    // M × N, row-major
  const uint16_t* a_global;    // when set, consumers store A into shared memory themselves (no TMA for A)
  int m, k;
  hp::Swizzle swizzle;    // of the tensor maps
  hp::Swizzle described;  // what the descriptors say
  bool a_from_registers;  // RS form
  Mistake mistake;
};

constexpr int kStages = 2;
constexpr int kStageK = 64;  // K per stage
constexpr int kRows = 128;   // M per block: two consumer warpgroups of 64 rows

inline int span_of(hp::Swizzle s) {
  return s == hp::Swizzle::k128B ? 128 : s == hp::Swizzle::k64B ? 64 : s == hp::Swizzle::k32B ? 32 : 0;
}
// Elements per TMA box row: the swizzle span, or one 16-byte core-matrix row without swizzle.
inline int box_elements(hp::Swizzle s) { return span_of(s) == 0 ? 8 : span_of(s) / 2; }

template <int N>
constexpr int a_stage_bytes() {
  return kRows * kStageK * 2;
}
template <int N>
constexpr int b_stage_bytes() {
  return N * kStageK * 2;
}

// The descriptor of A (rows of K) or a K-major B at k-step kk (16 elements) of a stage at `base`; `rows` rows per box.
inline uint64_t k_major_descriptor(uint32_t base, int rows, int kk, hp::Swizzle s) {
  const int span = span_of(s);
  if (span == 0) {
    // Boxes of 8 elements: core matrices 8 rows × 16 bytes at 16-byte row pitch (SBO 128 between 8-row groups); the
    // next 8 elements of K are the next box (LBO).
    const uint32_t box = static_cast<uint32_t>(rows * 16);
    return hp::make_smem_descriptor(base + 2 * kk * box, box, 128, s);
  }
  const int per_box = span / 2, box = rows * span;
  const int k0 = 16 * kk;
  return hp::make_smem_descriptor(base + (k0 / per_box) * box + (k0 % per_box) * 2, 16, 8 * span, s);
}

// An MN-major B (K × N, N contiguous) at k-step kk of a stage: boxes of box_elements(s) columns × kStageK rows.
inline uint64_t mn_major_descriptor(uint32_t base, int kk, hp::Swizzle s) {
  const int span = span_of(s);
  if (span == 0) {
    const uint32_t box = kStageK * 16;  // 8 columns × 64 rows of K
    return hp::make_smem_descriptor(base + 16 * kk * 16, 128, box, s);
  }
  const uint32_t box = static_cast<uint32_t>(kStageK * span);
  return hp::make_smem_descriptor(base + 16 * kk * span, box, 8 * span, s);
}

// The byte offset of A's element (row, col) in a stage: boxes of box_elements columns × kRows rows, swizzled as the
// TMA writes them (the stage starts on a 1024-byte boundary).
inline uint32_t a_offset(int row, int col, hp::Swizzle s) {
  const int span = span_of(s), per_box = box_elements(s), row_bytes = span == 0 ? 16 : span;
  uint32_t offset = static_cast<uint32_t>((col / per_box) * kRows * row_bytes + row * row_bytes + (col % per_box) * 2);
  if (span != 0) {
    const uint32_t bits = span == 128 ? 7u : span == 64 ? 3u : 1u;
    offset ^= ((offset >> 7) & bits) << 4;
  }
  return offset;
}

// The consumer's A fragment for the RS form, read from the stage's swizzled A tile by ordinary loads.
inline void load_a_fragment(const unsigned char* stage_a, int warpgroup_row, int kk, hp::Swizzle s, uint32_t (&a)[4]) {
  const int lane = static_cast<int>(threadIdx.x % 32), warp = static_cast<int>((threadIdx.x / 32) % 4);
  for (int r = 0; r < 4; ++r) {
    const int row = warpgroup_row + 16 * warp + lane / 4 + 8 * (r % 2);
    const int col = 16 * kk + 2 * (lane % 4) + 8 * (r / 2);
    std::memcpy(&a[r], stage_a + a_offset(row, col, s), 4);
  }
}

template <int N, typename T, hp::Major kMajorB>
__global__ void gemm(Params p) {
  extern __shared__ unsigned char smem[];
  constexpr int kABytes = a_stage_bytes<N>(), kBBytes = b_stage_bytes<N>();
  constexpr int kStageBytes = kABytes + kBBytes;
  uint64_t* full = reinterpret_cast<uint64_t*>(smem + kStages * kStageBytes);
  uint64_t* empty = full + kStages;
  const int warpgroup = static_cast<int>(threadIdx.x / 128);
  const int block_row = static_cast<int>(blockIdx.y) * kRows;
  const int k_tiles = (p.k + kStageK - 1) / kStageK;
  if (threadIdx.x == 0) {
    for (int s = 0; s < kStages; ++s) {
      hp::mbarrier_init(&full[s], 1);
      hp::mbarrier_init(&empty[s], 2);
    }
    if (p.mistake != Mistake::kNoBarrierInitFence) hp::fence_barrier_init();
  }
  __syncthreads();
  const int span = span_of(p.swizzle), per_box = box_elements(p.swizzle), row_bytes = span == 0 ? 16 : span;
  if (warpgroup == 0) {
    hp::setmaxnreg_dec<40>();
    if (threadIdx.x == 0) {
      for (int t = 0; t < k_tiles; ++t) {
        const int s = t % kStages;
        if (p.mistake != Mistake::kNoEmptyWait) hp::mbarrier_wait_parity(&empty[s], ((t / kStages) & 1) ^ 1);
        int bytes = p.a_global != nullptr ? kBBytes : kStageBytes;
        if (p.mistake == Mistake::kExpectTooMany) bytes += 16;
        if (p.mistake == Mistake::kExpectTooFew) bytes -= 16;
        hp::mbarrier_arrive_expect_tx(&full[s], static_cast<uint32_t>(bytes));
        unsigned char* a = smem + s * kStageBytes;
        unsigned char* b = a + kABytes;
        for (int box = 0; box < kStageK / per_box && p.a_global == nullptr; ++box) {
          hp::tma_load_2d(a + box * kRows * row_bytes, p.map_a, &full[s], t * kStageK + box * per_box, block_row);
        }
        if constexpr (kMajorB == hp::Major::kK) {
          for (int box = 0; box < kStageK / per_box; ++box) {
            hp::tma_load_2d(b + box * N * row_bytes, p.map_b, &full[s], t * kStageK + box * per_box,
                            static_cast<int>(blockIdx.x) * N);
          }
        } else {
          for (int box = 0; box < N / per_box; ++box) {
            hp::tma_load_2d(b + box * kStageK * row_bytes, p.map_b, &full[s],
                            static_cast<int>(blockIdx.x) * N + box * per_box, t * kStageK);
          }
        }
      }
    }
    hp::named_barrier_arrive(1, p.mistake == Mistake::kNamedBarrierCounts ? 352 : 384);
    return;
  }
  if (p.mistake == Mistake::kSetmaxnregTooMany) {
    hp::setmaxnreg_inc<256>();
  } else if (p.mistake == Mistake::kSetmaxnregSplit && threadIdx.x / 32 == 5) {
    hp::setmaxnreg_inc<224>();
  } else {
    hp::setmaxnreg_inc<232>();
  }
  float acc[N / 2];
  const int row0 = (warpgroup - 1) * 64;
  for (int t = 0; t < k_tiles; ++t) {
    const int s = t % kStages;
    if (p.mistake != Mistake::kNoFullWait) hp::mbarrier_wait_parity(&full[s], (t / kStages) & 1);
    unsigned char* a = smem + s * kStageBytes;
    const uint32_t a_base = hp::shared_address(a), b_base = hp::shared_address(a + kABytes);
    if (p.a_global != nullptr) {
      // This warpgroup's 64 rows of A by ordinary loads and stores (zeros past M and K), in the TMA's layout.
      for (int i = static_cast<int>(threadIdx.x % 128); i < 64 * kStageK; i += 128) {
        const int row = row0 + i / kStageK, col = i % kStageK;
        const int g_row = block_row + row, g_col = t * kStageK + col;
        const uint16_t x = g_row < p.m && g_col < p.k ? p.a_global[static_cast<size_t>(g_row) * p.k + g_col] : 0;
        std::memcpy(a + a_offset(row, col, p.swizzle), &x, 2);
      }
      if (p.mistake != Mistake::kNoProxyFence) hp::fence_proxy_async_shared();
      hp::named_barrier_sync(1 + warpgroup, 128);
    }
    if (p.mistake != Mistake::kNoWgmmaFence || t > 0) hp::wgmma_fence();
    for (int kk = 0; kk < kStageK / 16; ++kk) {
      const uint32_t scale = t > 0 || kk > 0 ? 1u : 0u;
      uint64_t desc_b;
      if constexpr (kMajorB == hp::Major::kK) {
        desc_b = k_major_descriptor(b_base, N, kk, p.described);
        if (p.mistake == Mistake::kWarpsDisagree && threadIdx.x / 32 == 6) desc_b += 1024 >> 4;
      } else {
        desc_b = mn_major_descriptor(b_base, kk, p.described);
      }
      if (p.a_from_registers) {
        uint32_t fragment[4];
        load_a_fragment(a, row0, kk, p.swizzle, fragment);
        hp::wgmma_rs<N, T, kMajorB>(acc, fragment, desc_b, scale);
      } else {
        const uint32_t shift = p.mistake == Mistake::kMisalignedTile ? 128 : 0;
        const uint64_t desc_a = k_major_descriptor(a_base + row0 * row_bytes + shift, kRows, kk, p.described);
        hp::wgmma_ss<N, T, hp::Major::kK, kMajorB>(acc, desc_a, desc_b, scale);
      }
    }
    hp::wgmma_commit();
    if (p.mistake == Mistake::kEarlyRelease && threadIdx.x % 128 == 0) hp::mbarrier_arrive(&empty[s]);
    if (p.mistake == Mistake::kWriteBeforeWait && t == k_tiles - 1) acc[0] = 0.0f;
    if (p.mistake == Mistake::kReadBeforeWait && t == k_tiles - 1) break;
    hp::wgmma_wait<0>();
    hp::fence_accumulators(acc);
    if (p.mistake != Mistake::kEarlyRelease && threadIdx.x % 128 == 0) hp::mbarrier_arrive(&empty[s]);
  }
  hp::named_barrier_sync(1, 384);
  const int lane = static_cast<int>(threadIdx.x % 32), warp = static_cast<int>((threadIdx.x / 32) % 4);
  for (int i = 0; i < N / 2; ++i) {
    const int row = block_row + row0 + 16 * warp + lane / 4 + 8 * ((i / 2) % 2);
    const int column = static_cast<int>(blockIdx.x) * N + 8 * (i / 4) + 2 * (lane % 4) + i % 2;
    if (row < p.m) p.c[static_cast<size_t>(row) * gridDim.x * N + column] = acc[i];
  }
  if (p.mistake == Mistake::kReadBeforeWait) hp::wgmma_wait<0>();
}

// A TMA box of a 3-d or 4-d tensor (2-byte elements) landed in shared memory, copied out byte for byte.
__global__ void tma_box(const hp::TensorMap* map, int rank, int c0, int c1, int c2, int c3, int bytes,
                        unsigned char* out) {
  extern __shared__ unsigned char smem[];
  uint64_t* bar = reinterpret_cast<uint64_t*>(smem + bytes);
  if (threadIdx.x == 0) {
    hp::mbarrier_init(bar, 1);
    hp::fence_barrier_init();
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    hp::mbarrier_arrive_expect_tx(bar, static_cast<uint32_t>(bytes));
    if (rank == 3) hp::tma_load_3d(smem, map, bar, c0, c1, c2);
    if (rank == 4) hp::tma_load_4d(smem, map, bar, c0, c1, c2, c3);
  }
  hp::mbarrier_wait_parity(bar, 0);
  for (int i = static_cast<int>(threadIdx.x); i < bytes; i += static_cast<int>(blockDim.x)) out[i] = smem[i];
}

// A 64 × 8 f16 box written by ordinary stores into shared memory (128B swizzle), then stored by TMA at (c0, c1).
__global__ void tma_store_box(const hp::TensorMap* map, int c0, int c1, bool fence, bool overwrite_before_wait) {
  extern __shared__ unsigned char smem[];
  for (int i = static_cast<int>(threadIdx.x); i < 64 * 8; i += static_cast<int>(blockDim.x)) {
    const uint16_t value = static_cast<uint16_t>(1000 + i);
    uint32_t offset = static_cast<uint32_t>(2 * i);
    offset ^= ((offset >> 7) & 7u) << 4;
    std::memcpy(smem + offset, &value, 2);
  }
  if (fence) hp::fence_proxy_async_shared();
  __syncthreads();
  if (threadIdx.x == 0) {
    hp::tma_store_2d(map, smem, c0, c1);
    hp::tma_store_commit();
    if (overwrite_before_wait) smem[0] ^= 1;
    hp::tma_store_wait_read<0>();
    hp::tma_store_wait<0>();
  }
}

enum class BarrierCase { kParity, kArriveBeyondCount, kUninitialised, kOverwritten, kExpectTxTooLarge };

// mbarrier rules on one warp: parities of a fresh and a completed phase; then the case's mistake.
__global__ void barrier_rules(BarrierCase which, int* verdict) {
  extern __shared__ unsigned char smem[];
  uint64_t* bar = reinterpret_cast<uint64_t*>(smem);
  if (which == BarrierCase::kUninitialised) {
    hp::mbarrier_arrive(bar);
    return;
  }
  if (threadIdx.x == 0) hp::mbarrier_init(bar, 32);
  __syncwarp();
  // A fresh barrier is in phase 0: the phase of parity 1 counts as complete, parity 0 is not.
  const bool fresh_one = hp::mbarrier_try_wait_parity(bar, 1), fresh_zero = hp::mbarrier_try_wait_parity(bar, 0);
  __syncwarp();
  hp::mbarrier_arrive(bar);
  hp::mbarrier_wait_parity(bar, 0);
  const bool done_zero = hp::mbarrier_try_wait_parity(bar, 0), next_one = hp::mbarrier_try_wait_parity(bar, 1);
  if (threadIdx.x == 0) verdict[0] = fresh_one && !fresh_zero && done_zero && !next_one ? 1 : 0;
  __syncwarp();
  if (which == BarrierCase::kArriveBeyondCount) {
    // Phase 1 gets all 32 arrivals but waits for 16 tx bytes: one more arrival has no phase to count in.
    if (threadIdx.x == 0) hp::mbarrier_expect_tx(bar, 16);
    __syncwarp();
    hp::mbarrier_arrive(bar);
    __syncwarp();
    if (threadIdx.x == 0) hp::mbarrier_arrive(bar);
  }
  if (which == BarrierCase::kOverwritten && threadIdx.x == 0) {
    *bar = 0;
    hp::mbarrier_arrive(bar);
  }
  if (which == BarrierCase::kExpectTxTooLarge && threadIdx.x == 0) hp::mbarrier_expect_tx(bar, 1u << 20);
}

}  // namespace hopper_selftest

namespace {

using namespace hopper_selftest;

struct Outcome {
  bool faulted = false;
  std::string report;
  double max_error = 0;  // against the float64 product, relative to its largest magnitude
};

template <typename T>
uint16_t bits_of(float x) {
  const T h = attention::from_float<T>(x);
  uint16_t b;
  std::memcpy(&b, &h, 2);
  return b;
}

template <typename T>
float value_of(uint16_t b) {
  T h;
  std::memcpy(&h, &b, 2);
  return attention::to_float(h);
}

struct alignas(64) Map {
  unsigned char bytes[128];
};

// One GEMM C (M × N·blocks) = A (M × K) · B, B given as N × K (K-major) or K × N (MN-major), through the kernel.
// A case: the problem, the swizzle of the maps and of the descriptors, the A path and the planted mistake.
struct Case {
  int m = 200, k = 200, column_blocks = 1;
  hp::Swizzle swizzle = hp::Swizzle::k128B;
  hp::Swizzle described = hp::Swizzle::k128B;
  bool rs = false, stores_a = false;
  Mistake mistake = Mistake::kNone;
  unsigned seed = 1;
  bool lands_at_issue = false;  // emulation::hopper::tma_lands_at_issue for this launch
};

template <int N, typename T, hp::Major kMajorB>
Outcome run(const Case& x) {
  const int m = x.m, k = x.k, column_blocks = x.column_blocks;
  const hp::Swizzle swizzle = x.swizzle;
  std::mt19937 rng(x.seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  const int n = N * column_blocks;
  std::vector<uint16_t> a(static_cast<size_t>(m) * k), b(static_cast<size_t>(n) * k);
  for (auto& x : a) x = bits_of<T>(dist(rng));
  for (auto& x : b) x = bits_of<T>(dist(rng));
  const int per_box = box_elements(swizzle);
  const uint32_t data_type = std::is_same_v<T, __half> ? 6 : 9;  // CU_TENSOR_MAP_DATA_TYPE_FLOAT16, BFLOAT16
  const uint32_t swizzle_enum = swizzle == hp::Swizzle::k128B  ? 3
                                : swizzle == hp::Swizzle::k64B ? 2
                                : swizzle == hp::Swizzle::k32B ? 1
                                                               : 0;
  Map map_a, map_b;
  const uint32_t ones[2] = {1, 1};
  {
    const uint64_t dims[2] = {static_cast<uint64_t>(k), static_cast<uint64_t>(m)};
    const uint64_t strides[1] = {static_cast<uint64_t>(k) * 2};
    const uint32_t box[2] = {static_cast<uint32_t>(per_box), kRows};
    const std::string e = emulation::encode_tensor_map_tiled(&map_a, data_type, 2, a.data(), dims, strides, box, ones,
                                                             0, swizzle_enum, 0);
    if (!e.empty()) return {true, "encode A: " + e};
  }
  {
    const bool k_major = kMajorB == hp::Major::kK;
    const uint64_t dims[2] = {static_cast<uint64_t>(k_major ? k : n), static_cast<uint64_t>(k_major ? n : k)};
    const uint64_t strides[1] = {static_cast<uint64_t>(k_major ? k : n) * 2};
    const uint32_t box[2] = {static_cast<uint32_t>(per_box), static_cast<uint32_t>(k_major ? N : kStageK)};
    const std::string e = emulation::encode_tensor_map_tiled(&map_b, data_type, 2, b.data(), dims, strides, box, ones,
                                                             0, swizzle_enum, 0);
    if (!e.empty()) return {true, "encode B: " + e};
  }
  std::vector<float> c(static_cast<size_t>(m) * n, std::nanf(""));
  Params p{reinterpret_cast<const hp::TensorMap*>(&map_a),
           reinterpret_cast<const hp::TensorMap*>(&map_b),
           c.data(),
           x.stores_a ? a.data() : nullptr,
           m,
           k,
           swizzle,
           x.described,
           x.rs,
           x.mistake};
  const size_t shared = kStages * (a_stage_bytes<N>() + b_stage_bytes<N>()) + 4 * sizeof(uint64_t);
  emulation::exit_on_fault = false;
  emulation::hopper::tma_lands_at_issue = x.lands_at_issue;
  emulation::LaunchOptions options;
  options.kernel = "hopper_selftest_gemm";
  options.resident_blocks = 2;
  const emulation::LaunchResult result = emulation::launch(
      dim3(column_blocks, (m + kRows - 1) / kRows), dim3(384), shared, [&] { gemm<N, T, kMajorB>(p); }, options);
  emulation::hopper::tma_lands_at_issue = false;
  Outcome out;
  out.faulted = result.faulted;
  out.report = result.report;
  if (result.faulted) return out;
  double largest = 0, worst = 0;
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      double sum = 0;
      for (int x = 0; x < k; ++x) {
        const uint16_t bx =
            kMajorB == hp::Major::kK ? b[static_cast<size_t>(j) * k + x] : b[static_cast<size_t>(x) * n + j];
        sum += static_cast<double>(value_of<T>(a[static_cast<size_t>(i) * k + x])) * value_of<T>(bx);
      }
      largest = std::max(largest, std::fabs(sum));
      const double got = c[static_cast<size_t>(i) * n + j];
      worst = std::isnan(got) ? INFINITY : std::max(worst, std::fabs(got - sum));
      if (std::isnan(got)) break;
    }
  }
  out.max_error = worst / std::max(largest, 1e-30);
  return out;
}

int failures = 0;

void expect(bool ok, const std::string& what, const Outcome& o) {
  std::printf("   %s %s", ok ? "ok    " : "FAILED", what.c_str());
  if (o.faulted) {
    std::printf(" (fault: %s)\n", o.report.c_str());
  } else {
    std::printf(" (max error %.2e)\n", o.max_error);
  }
  if (!ok) ++failures;
}

bool correct(const Outcome& o) { return !o.faulted && o.max_error <= 1e-5; }

bool faults_with(const Outcome& o, const char* text) { return o.faulted && o.report.find(text) != std::string::npos; }

template <int N, typename T, hp::Major kMajorB>
void check_correct(const std::string& what, const Case& x) {
  const Outcome o = run<N, T, kMajorB>(x);
  expect(correct(o), what, o);
}

template <int N, typename T, hp::Major kMajorB>
void check_fault(const std::string& what, const Case& x, const char* text) {
  const Outcome o = run<N, T, kMajorB>(x);
  expect(faults_with(o, text), what + ": faults with \"" + text + "\"", o);
}

template <int N, typename T, hp::Major kMajorB>
void check_wrong(const std::string& what, const Case& x) {
  const Outcome o = run<N, T, kMajorB>(x);
  expect(!o.faulted && !(o.max_error <= 1e-2), what + ": a wrong product", o);
}

// The box of a 3-d or 4-d tensor map against the host's copy of it: elements outside the tensor zero (or NaN),
// the 128B swizzle on the shared addresses.
bool tma_box_matches(int rank, hp::Swizzle swizzle, bool nan_fill, const int (&dims)[4], const int (&box)[4],
                     const int (&c)[4]) {
  size_t elements = 1, total = 1;
  for (int d = 0; d < rank; ++d) elements *= static_cast<size_t>(dims[d]);
  for (int d = 0; d < rank; ++d) total *= static_cast<size_t>(box[d]);
  std::vector<uint16_t> tensor(elements);
  for (size_t i = 0; i < elements; ++i) tensor[i] = static_cast<uint16_t>(i * 7 + 1);
  uint64_t gdim[4], gstride[3];
  uint32_t gbox[4], ones[4] = {1, 1, 1, 1};
  uint64_t stride = 2;
  for (int d = 0; d < rank; ++d) {
    gdim[d] = static_cast<uint64_t>(dims[d]);
    gbox[d] = static_cast<uint32_t>(box[d]);
    if (d > 0) gstride[d - 1] = stride;
    stride *= static_cast<uint64_t>(dims[d]);
  }
  Map map;
  const std::string e =
      emulation::encode_tensor_map_tiled(&map, 6, static_cast<uint32_t>(rank), tensor.data(), gdim, gstride, gbox, ones,
                                         0, swizzle == hp::Swizzle::k128B ? 3 : 0, nan_fill ? 1 : 0);
  if (!e.empty()) {
    std::printf("   tma box: encode: %s\n", e.c_str());
    return false;
  }
  const int bytes = static_cast<int>(total * 2);
  std::vector<unsigned char> out(bytes, 0xee);
  const auto result = emulation::launch(dim3(1), dim3(64), bytes + 8, [&] {
    tma_box(reinterpret_cast<const hp::TensorMap*>(&map), rank, c[0], c[1], c[2], c[3], bytes, out.data());
  });
  if (result.faulted) {
    std::printf("   tma box: %s\n", result.report.c_str());
    return false;
  }
  for (size_t i = 0; i < total; ++i) {
    size_t rest = i, at = 0, scale = 1;
    bool inside = true;
    for (int d = 0; d < rank; ++d) {
      const long long x = c[d] + static_cast<long long>(rest % box[d]);
      rest /= box[d];
      inside = inside && x >= 0 && x < dims[d];
      at += static_cast<size_t>(x) * scale;
      scale *= static_cast<size_t>(dims[d]);
    }
    const uint16_t want = inside ? tensor[at] : nan_fill ? emulation::kSharedFill : 0;
    uint32_t offset = static_cast<uint32_t>(i * 2);
    if (swizzle == hp::Swizzle::k128B) offset ^= ((offset >> 7) & 7u) << 4;
    uint16_t got;
    std::memcpy(&got, &out[offset], 2);
    if (got != want) {
      std::printf("   tma box: element %zu is %#x, expected %#x\n", i, got, want);
      return false;
    }
  }
  return true;
}

// The tma_store_box kernel into a 104 × 10 f16 tensor at (c0, c1): "" when the tensor holds the box where it lies
// inside and its old contents elsewhere, else what differs (or the fault).
std::string tma_store_result(int c0, int c1, bool fence, bool overwrite_before_wait) {
  constexpr int kWidth = 104, kHeight = 10;
  std::vector<uint16_t> tensor(kWidth * kHeight, 7);
  const uint64_t dims[2] = {kWidth, kHeight}, strides[1] = {kWidth * 2};
  const uint32_t box[2] = {64, 8}, ones[2] = {1, 1};
  Map map;
  const std::string e =
      emulation::encode_tensor_map_tiled(&map, 6, 2, tensor.data(), dims, strides, box, ones, 0, 3, 0);
  if (!e.empty()) return "encode: " + e;
  const auto result = emulation::launch(dim3(1), dim3(128), 64 * 8 * 2, [&] {
    tma_store_box(reinterpret_cast<const hp::TensorMap*>(&map), c0, c1, fence, overwrite_before_wait);
  });
  if (result.faulted) return result.report;
  for (int y = 0; y < kHeight; ++y) {
    for (int x = 0; x < kWidth; ++x) {
      const int bx = x - c0, by = y - c1;
      const bool in_box = bx >= 0 && bx < 64 && by >= 0 && by < 8;
      const uint16_t want = in_box ? static_cast<uint16_t>(1000 + by * 64 + bx) : 7;
      if (tensor[y * kWidth + x] != want) {
        return "element (" + std::to_string(x) + ", " + std::to_string(y) + ") is " +
               std::to_string(tensor[y * kWidth + x]) + ", expected " + std::to_string(want);
      }
    }
  }
  return {};
}

// A barrier_rules case: whether the parities held, and the fault report (empty without one).
std::string barrier_case(BarrierCase which, bool& parities) {
  int verdict = 0;
  const auto result = emulation::launch(dim3(1), dim3(32), 64, [&] { barrier_rules(which, &verdict); });
  parities = verdict == 1;
  return result.faulted ? result.report : std::string();
}

void expect_text(bool ok, const std::string& what, const std::string& detail) {
  std::printf("   %s %s%s%s\n", ok ? "ok    " : "FAILED", what.c_str(), detail.empty() ? "" : ": ", detail.c_str());
  if (!ok) ++failures;
}

// cuTensorMapEncodeTiled's documented argument rules.
void check_encode_rules() {
  alignas(64) static uint16_t data[64 * 64];
  Map map;
  const uint64_t dims[2] = {64, 64}, strides[1] = {128}, odd_strides[1] = {120};
  const uint32_t box[2] = {64, 64}, ones[2] = {1, 1}, wide[2] = {72, 8}, big[2] = {64, 257}, narrow[2] = {4, 8};
  const auto encode = [&](void* m, const void* g, const uint64_t* st, const uint32_t* b, uint32_t swizzle) {
    return emulation::encode_tensor_map_tiled(m, 6, 2, g, dims, st, b, ones, 0, swizzle, 0);
  };
  expect_text(encode(&map, data, strides, box, 3).empty(), "encode: a 64 × 64 f16 box, 128B swizzle", "");
  const struct {
    const char* what;
    std::string error;
  } rejected[] = {
      {"a box row wider than the 128B span", encode(&map, data, strides, wide, 3)},
      {"a box dimension of 257", encode(&map, data, strides, big, 0)},
      {"a box row of 8 bytes", encode(&map, data, strides, narrow, 0)},
      {"a stride that is not a multiple of 16", encode(&map, data, odd_strides, box, 0)},
      {"a global address not 16-byte aligned", encode(&map, reinterpret_cast<const char*>(data) + 8, strides, box, 0)},
      {"a map not 64-byte aligned", encode(reinterpret_cast<char*>(&map) + 8, data, strides, box, 0)},
  };
  for (const auto& r : rejected) expect_text(!r.error.empty(), std::string("encode rejects ") + r.what, r.error);
}

}  // namespace

// The emulated device reads a Hopper kernel's parameter struct, tensor maps by value among its pointers and scalars:
// it finds the pointers (to trap host pointers) at their offsets.
struct HopperLikeParams {
  hp::TensorMap q, k;
  float* o;
  int n;
  const float* lse;
  char flag;
  hp::TensorMap v;
};
constexpr device::params::PointerFields kHopperLikeFields = device::params::pointer_fields<HopperLikeParams>();
static_assert(kHopperLikeFields.count == 2 && kHopperLikeFields.offsets[0] == offsetof(HopperLikeParams, o) &&
                  kHopperLikeFields.offsets[1] == offsetof(HopperLikeParams, lse) &&
                  kHopperLikeFields.layout_bytes == sizeof(HopperLikeParams),
              "device/kernel_params.hpp lays out a struct with tensor maps as the compiler does");

int main() {
  using hp::Major;
  using hp::Swizzle;
  using enum Mistake;
  const Swizzle s128 = Swizzle::k128B, s64 = Swizzle::k64B, s32 = Swizzle::k32B, none = Swizzle::kNone;
  std::printf("hopper selftest: wgmma GEMMs on TMA-loaded tiles vs float64\n");
  check_correct<128, __half, Major::kK>("f16 128B, K-major B, N 128, M 200 K 200 (edges zero-filled)", {});
  check_correct<64, __nv_bfloat16, Major::kMN>("bf16 64B, MN-major B, N 64 × 2 blocks, M 130 K 128",
                                               {130, 128, 2, s64, s64});
  check_correct<256, __half, Major::kK>("f16 32B, K-major B, N 256, M 128 K 64", {128, 64, 1, s32, s32});
  check_correct<96, __nv_bfloat16, Major::kMN>("bf16 no swizzle, MN-major B, N 96, M 70 K 136",
                                               {70, 136, 1, none, none});
  check_correct<64, __half, Major::kK>("f16 no swizzle, K-major B, N 64, M 64 K 72", {64, 72, 1, none, none});
  check_correct<128, __nv_bfloat16, Major::kMN>("bf16 128B, MN-major B, N 128, RS (A from registers)",
                                                {150, 192, 1, s128, s128, true});
  check_correct<64, __half, Major::kK>("f16 32B, A by ordinary stores + fence.proxy.async",
                                       {128, 128, 1, s32, s32, false, true});

  std::printf("hopper selftest: planted mistakes\n");
  check_wrong<128, __half, Major::kK>("descriptors say 64B, the TMA wrote 128B", {128, 128, 1, s128, s64});
  check_wrong<64, __nv_bfloat16, Major::kMN>("descriptors say no swizzle, the TMA wrote 32B", {64, 64, 1, s32, none});
  check_fault<64, __half, Major::kK>("A by ordinary stores without fence.proxy.async",
                                     {128, 128, 1, s32, s32, false, true, kNoProxyFence}, "fence.proxy.async");
  check_fault<64, __half, Major::kK>(
      "no fence.mbarrier_init", {128, 64, 1, s128, s128, false, false, kNoBarrierInitFence}, "fence.mbarrier_init");
  check_fault<64, __half, Major::kK>("expect-tx 16 bytes too many",
                                     {128, 128, 1, s128, s128, false, false, kExpectTooMany}, "never completes");
  check_fault<64, __half, Major::kK>("expect-tx 16 bytes too few",
                                     {128, 128, 1, s128, s128, false, false, kExpectTooFew}, "more than its expect-tx");
  check_fault<64, __half, Major::kK>("no wgmma.fence", {128, 64, 1, s128, s128, false, false, kNoWgmmaFence},
                                     "wgmma.fence");
  check_wrong<64, __half, Major::kK>("accumulators read before wgmma.wait_group",
                                     {128, 64, 1, s128, s128, false, false, kReadBeforeWait});
  check_fault<64, __half, Major::kK>("accumulators written before wgmma.wait_group",
                                     {128, 64, 1, s128, s128, false, false, kWriteBeforeWait}, "in flight");
  check_wrong<64, __half, Major::kK>("consumers skip the wait for the TMA",
                                     {128, 128, 1, s128, s128, false, false, kNoFullWait});
  check_fault<64, __half, Major::kK>("setmaxnreg not warpgroup-uniform",
                                     {128, 64, 1, s128, s128, false, false, kSetmaxnregSplit}, "warpgroup-uniform");
  check_fault<64, __half, Major::kK>("setmaxnreg over the SM's registers",
                                     {128, 64, 1, s128, s128, false, false, kSetmaxnregTooMany}, "65536");
  check_fault<64, __half, Major::kK>("named barrier counts disagree",
                                     {128, 64, 1, s128, s128, false, false, kNamedBarrierCounts}, "named barrier");
  check_fault<128, __half, Major::kK>("a tile one row into its swizzle pattern",
                                      {128, 64, 1, s128, s128, false, false, kMisalignedTile}, "first row");
  check_fault<64, __half, Major::kK>("warps of a warpgroup with different descriptors",
                                     {128, 64, 1, s128, s128, false, false, kWarpsDisagree},
                                     "issue one wgmma together");

  Case at_issue{256, 512, 1, s128, s128};
  at_issue.lands_at_issue = true;
  check_correct<64, __half, Major::kK>("TMA landing at issue: the pipeline is still correct", at_issue);
  at_issue.mistake = kEarlyRelease;
  check_wrong<64, __half, Major::kK>("TMA landing at issue: consumers release a stage before wgmma.wait_group",
                                     at_issue);
  at_issue.mistake = kNoEmptyWait;
  check_fault<64, __half, Major::kK>("TMA landing at issue: the producer skips the empty-stage wait", at_issue,
                                     "threads wait for the phase of parity");

  std::printf("hopper selftest: TMA boxes, mbarrier rules, tensor-map encoding\n");
  expect_text(tma_box_matches(4, s128, true, {64, 5, 3, 2}, {64, 4, 2, 1}, {0, 3, -1, 1}),
              "4-d box, 128B swizzle, NaN fill past the edges", "");
  expect_text(tma_box_matches(3, none, false, {24, 4, 3, 1}, {8, 3, 2, 1}, {8, -2, 2, 0}),
              "3-d box, no swizzle, zeros past the edges", "");
  std::string stored = tma_store_result(60, 5, true, false);
  expect_text(stored.empty(), "TMA store of a 128B-swizzled box, clipped at the tensor's edges", stored);
  stored = tma_store_result(-3, -2, false, false);
  expect_text(stored.find("fence.proxy.async") != std::string::npos, "a TMA store without fence.proxy.async faults",
              stored);
  stored = tma_store_result(0, 0, true, true);
  expect_text(stored.find("wait_group.read") != std::string::npos,
              "a box rewritten before cp.async.bulk.wait_group.read faults", stored);
  bool parities = false;
  std::string report = barrier_case(BarrierCase::kParity, parities);
  expect_text(parities && report.empty(), "try_wait.parity: fresh phase 1 passes, 0 waits; then the reverse", report);
  report = barrier_case(BarrierCase::kArriveBeyondCount, parities);
  expect_text(report.find("beyond its count") != std::string::npos, "an arrival beyond the count faults", report);
  report = barrier_case(BarrierCase::kUninitialised, parities);
  expect_text(report.find("no mbarrier.init") != std::string::npos, "a barrier used before init faults", report);
  report = barrier_case(BarrierCase::kOverwritten, parities);
  expect_text(report.find("overwrote") != std::string::npos, "a barrier overwritten by a store faults", report);
  report = barrier_case(BarrierCase::kExpectTxTooLarge, parities);
  expect_text(report.find("2^20") != std::string::npos, "an expect-tx of 2^20 bytes faults", report);
  check_encode_rules();
  std::printf("hopper selftest: %s\n", failures == 0 ? "ok" : "FAILED");
  return failures == 0 ? 0 : 1;
}
