// The 16-bit (f16, bf16) partial block of attention_splitkv, on the tensor cores (mma.sync, fp32 accumulators).
// A block holds up to 8 query rows — the N of the second mma — and each warp streams its own 8-key stages of the
// split through its own ring of K/V tiles, copied by 16-byte cp.async.cg in the element type and fed to the mmas by
// ldmatrix: no widening, no float staging.
//
// Per 8-key stage, with g = lane / 4 and q = lane % 4 (the PTX fragment coordinates):
//   S  = Q · Kᵀ      m16n8k16: M = 16 query rows (rows 8-15 are zero A registers, their accumulators unused),
//                    N = the 8 keys, K = 16 head columns a step. Q's A fragment comes by ldmatrix.x4 from Q's tile
//                    (rows 8-15 from a zero row), Kᵀ's B fragment by ldmatrix.x2 from K's rows. Lane (g, q) then
//                    holds row g's scores of keys 2q and 2q + 1.
//   softmax          per row g in its quad: max by two shuffles, p = exp2((s − m) · log2 e), running sum per lane.
//   Oᵀ += Vᵀ · Pᵀ     m16n8k8: M = 16 value columns a step, N = 8 rows, K = the 8 keys. Pᵀ's B fragment (keys 2q,
//                    2q + 1 of row g) is exactly what lane (g, q) holds — p packed to a 16-bit pair, no shuffle — and
//                    Vᵀ's A fragment comes from V's rows by ldmatrix.x2.trans. The accumulator holds value columns
//                    g and g + 8 of each 16-column step for rows 2q, 2q + 1: 64 registers at Dv = 256 (the
//                    untransposed O = P · V would hold 16 rows there, 128).
// Each score is computed once (the float path computes it in every lane of a group), and an 8-key stage at
// D = Dv = 128 is ~390 SASS instructions in all: 24 ldmatrix (8 each of Q, K, V), 8 + 16 mma, ~190 for the 8 cp.async
// a lane with their addressing, ~90 for the scores and the softmax (attention_splitkv.cu records the static numbers).
//
// P enters the second mma as two terms in the element type, p = hi + lo with hi = p rounded and lo = the rest
// rounded: one rounding of P (FlashAttention-2's) costs bf16 its 2^-9 per probability, up to 1.5e-2 of an output
// whose terms cancel (the emulation's D = Dv = 1 rows); hi + lo leaves 2^-17. The second mma of each step reuses
// the step's V fragment: 8 more HMMA a stage at Dv = 128, on a tensor pipe the decode leaves idle. l sums the
// unrounded p. The f16/bf16 outputs are rounded to the element type themselves; the emulation holds them to 1e-2.
#pragma once

#include "attention_splitkv_copy.cuh"
#include "attention_splitkv_kv8.cuh"

namespace attention {
namespace splitkv {

// The tile and the ring: attention_splitkv.cu records why they won (registers, shared memory, CTAs per SM, bytes in
// flight against HBM latency × bandwidth).
constexpr int kMmaRows = 8;        // query rows per 16-bit block: the N of the second mma
constexpr int kMmaStageKeys = 8;   // keys of one warp's stage: the N of the first mma, the K of the second
// K/V bytes each warp keeps requested: 48 KiB a block, 96 KiB an SM at the two blocks a decode grid puts there,
// ~4× the 25 KiB that 4.8 TB/s × 700 ns spreads over 132 SMs.
constexpr int kMmaInFlightBytes = 12 * 1024;
constexpr int kMmaMaxStages = 8;   // wait_for_stage's deepest case
constexpr int kMmaSteps = kMaxDim / 16;
// Every GPU from sm_80 on lets a block have 99 KiB of shared memory (sm_86 and sm_89 no more): the ring is sized
// to that, so that one geometry runs everywhere.
constexpr int kMmaSharedBudget = 99 * 1024;

// A head dim padded to whole 16-column mma steps.
__host__ __device__ constexpr int mma_padded(int dim) { return (dim + 15) / 16 * 16; }

// Pitch of a Q, K or V row in shared memory, in elements: padded + 8, an odd number of 16-byte chunks, so that the
// 8 rows an ldmatrix phase reads (and the 8 chunks a cp.async phase writes) fall on 8 different bank quads.
__host__ __device__ constexpr int mma_pitch(int dim) { return mma_padded(dim) + 8; }

// One warp's stage: 8 K rows, then 8 V rows, 16-bit elements. 4,352 bytes at D = Dv = 128, 8,448 at 256.
__host__ __device__ constexpr int mma_stage_bytes(int head_dim, int value_dim) {
  return kMmaStageKeys * (mma_pitch(head_dim) + mma_pitch(value_dim)) * 2;
}

// Q's tile: 8 rows and a zero row.
__host__ __device__ constexpr int mma_q_bytes(int head_dim) { return (kMmaRows + 1) * mma_pitch(head_dim) * 2; }

// Stages per warp: one being read plus enough in flight to hold kMmaInFlightBytes, as far as the budget beside Q's
// tile allows, at most kMmaMaxStages — 7 at D = Dv = 64, 5 at 96, 4 at 128, 3 at 192, 2 at 256 (never fewer:
// 4 warps · 2 · 8,448 + 4,752 bytes is within the budget).
__host__ __device__ constexpr int mma_stages(int head_dim, int value_dim) {
  const int stage = mma_stage_bytes(head_dim, value_dim);
  const int wanted = 1 + (kMmaInFlightBytes + stage - 1) / stage;
  const int fit = (kMmaSharedBudget - mma_q_bytes(head_dim)) / (kWarps * stage);
  const int stages = wanted < fit ? wanted : fit;
  return stages < kMmaMaxStages ? stages : kMmaMaxStages;
}

// Dynamic shared memory of a 16-bit partial block: 4 warps' rings, then Q's tile. The combine's scratch,
// 4 · 8 · padded(Dv) + 64 floats, fits in the rings.
__host__ __device__ constexpr int mma_shared_bytes(int head_dim, int value_dim) {
  return kWarps * mma_stages(head_dim, value_dim) * mma_stage_bytes(head_dim, value_dim) + mma_q_bytes(head_dim);
}
// The host's AttentionSplitKvGeometry computes the same (AttentionSplitKvLaunchTests holds it to these numbers).
static_assert(mma_stages(64, 64) == 7 && mma_shared_bytes(64, 64) == 65808, "D = Dv = 64: 7 stages");
static_assert(mma_stages(128, 128) == 4 && mma_shared_bytes(128, 128) == 72080, "D = Dv = 128: 4 stages");
static_assert(mma_stages(192, 192) == 3 && mma_shared_bytes(192, 192) == 80400, "D = Dv = 192: 3 stages");
static_assert(mma_stages(256, 256) == 2 && mma_shared_bytes(256, 256) == 72336, "D = Dv = 256: 2 stages");

// Waits until at most `stages − 2` of this lane's committed stage groups are in flight: stage n of a ring of
// `stages` has landed. wait_group takes an immediate, hence the switch over the depths mma_stages can give.
__device__ __forceinline__ void wait_for_stage(int stages) {
  static_assert(kMmaMaxStages == 8, "a case per depth");
  switch (stages) {
    case 8: wm::cp_async_wait<6>(); break;
    case 7: wm::cp_async_wait<5>(); break;
    case 6: wm::cp_async_wait<4>(); break;
    case 5: wm::cp_async_wait<3>(); break;
    case 4: wm::cp_async_wait<2>(); break;
    case 3: wm::cp_async_wait<1>(); break;
    default: wm::cp_async_wait<0>(); break;
  }
}

#ifdef ATTENTION_EMULATION
// Host stand-ins, on warp_matrix_emulation.hpp's warp-cooperative ldmatrix and mma.
inline void ldsm_x4(uint32_t (&r)[4], SharedAddress row) { wm::ldmatrix<4, false>(r, row); }
inline void ldsm_x2(uint32_t (&r)[2], SharedAddress row) { wm::ldmatrix<2, false>(r, row); }
inline void ldsm_x2_trans(uint32_t (&r)[2], SharedAddress row) { wm::ldmatrix<2, true>(r, row); }

template <typename T>
inline void mma_1688(float (&d)[4], const uint32_t (&a)[2], uint32_t b) {
  const uint32_t a4[4] = {a[0], a[1], 0u, 0u}, b2[2] = {b, 0u};
  wm::warp_mma<8>(
      d, a4, b2,
      [](const emulation::WarpExchange& ex, int row, int col) {
        return wm::element<T>(ex.a[(row % 8) * 4 + col / 2][row >= 8 ? 1 : 0], col % 2);
      },
      [](const emulation::WarpExchange& ex, int k, int n) { return wm::element<T>(ex.b[n * 4 + k / 2][0], k % 2); });
}
#else
// ldmatrix .x4 / .x2 (/.trans) on a shared-window address: lanes 8i … 8i + 7 address the 8 rows of matrix i; lane l
// receives elements (l / 4, 2 (l % 4)) and (l / 4, 2 (l % 4) + 1) of each — transposed: (2 (l % 4), l / 4) and
// (2 (l % 4) + 1, l / 4).
__device__ __forceinline__ void ldsm_x4(uint32_t (&r)[4], SharedAddress row) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(row));
}
__device__ __forceinline__ void ldsm_x2(uint32_t (&r)[2], SharedAddress row) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0, %1}, [%2];\n" : "=r"(r[0]), "=r"(r[1]) : "r"(row));
}
__device__ __forceinline__ void ldsm_x2_trans(uint32_t (&r)[2], SharedAddress row) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0, %1}, [%2];\n" : "=r"(r[0]), "=r"(r[1]) : "r"(row));
}

// d += a · b for one 16×8×8 tile: a 16×8 row-major (a0: row g, columns 2q, 2q + 1; a1: row g + 8), b 8×8
// column-major (rows 2q, 2q + 1 of column g), d as m16n8k16's. Element types are those of T.
template <typename T>
__device__ __forceinline__ void mma_1688(float (&d)[4], const uint32_t (&a)[2], uint32_t b);

template <>
__device__ __forceinline__ void mma_1688<__half>(float (&d)[4], const uint32_t (&a)[2], uint32_t b) {
  asm("mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5}, {%6}, {%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(b));
}

template <>
__device__ __forceinline__ void mma_1688<__nv_bfloat16>(float (&d)[4], const uint32_t (&a)[2], uint32_t b) {
  asm("mma.sync.aligned.m16n8k8.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5}, {%6}, {%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(b));
}
#endif

// The raw bits of a 16-bit element.
template <typename T>
__device__ __forceinline__ uint32_t bits_of(T x) {
  uint16_t b;
  memcpy(&b, &x, sizeof b);
  return b;
}

// One operand (K or V) of a warp's stage as this lane copies it: the stage's 8 rows × `chunks` 16-byte chunks
// (padded to whole mma steps) of its stored elements S — T, or the bytes of an 8-bit format, which sit at the start
// of the same 16-bit rows (one stage geometry for every format). The lanes cover W = the power of two ≥ chunks
// columns of 32 / W rows at a time — lane l takes column chunk l % W of rows l / W, l / W + 32 / W, … — so that
// each of its copies is one pointer step from its last, consecutive lanes copy consecutive 16 bytes of a row
// (coalesced), and lanes past `chunks` (at D = 96: 4 of 16) sit out. A lane whose chunk lies wholly past the head dim (padding up to the mma step)
// zero-fills its chunks of every slot once, before the first stage, and copies nothing after.
template <typename S>
struct StageCopy {
  static constexpr int kPerChunk = kChunkBytes / static_cast<int>(sizeof(S));
  const S* lane_src;  // row 0 of the head at this lane's column chunk
  int row0;           // this lane's first row: l / W
  int row_step;       // 32 / W
  int pitch;          // bytes between rows in the stage
  int offset;         // this lane's first chunk in the stage half: row0 · pitch + 16 · (l % W)
  int bytes;          // of its column chunk: 16, the row's tail, or 0 (padding, or a lane past `chunks`)
  bool padding;       // a chunk past the head dim within `chunks`

  __device__ __forceinline__ StageCopy(const S* head, long long stride, int dim, int lane) {
    const int chunks = mma_padded(dim) / kPerChunk;
    int width = 2;
    while (width < chunks) width *= 2;
    const int column = lane % width;
    row0 = lane / width;
    row_step = kWarpSize / width;
    pitch = mma_pitch(dim) * 2;
    offset = row0 * pitch + 16 * column;
    const int left = column < chunks ? dim - kPerChunk * column : 0;
    bytes = static_cast<int>(sizeof(S)) * (left <= 0 ? 0 : left >= kPerChunk ? kPerChunk : left);
    padding = column < chunks && bytes == 0;
    lane_src = head + row0 * stride + kPerChunk * column;
  }

  // Zeros this lane's padding chunks of the stage half at `half` (every slot's, once).
  __device__ __forceinline__ void zero_padding(unsigned char* half) const {
    if (!padding) return;
    for (int r = row0; r < kMmaStageKeys; r += row_step) {
      *reinterpret_cast<uint4*>(half + offset + (r - row0) * pitch) = uint4{0u, 0u, 0u, 0u};
    }
  }

  // Copies this lane's chunks of rows first_key … first_key + 7 (`stride` elements apart, the first `row` elements
  // past the head's row 0: first_key · stride, or its page's and slot's offset where K/V are paged) into the stage
  // half at `half`: zeros for keys at or past `end`. `aligned`: by cp.async, else by plain loads; `valid` (inside
  // the operand) is the source of the zero-byte copies.
  __device__ __forceinline__ void issue(SharedAddress half, unsigned char* half_pointer, int first_key, int end,
                                        long long row, long long stride, bool aligned, const S* valid) const {
    if (bytes == 0) return;
    const S* src = lane_src + row;
    const long long src_step = row_step * stride;
    const int dst_step = row_step * pitch;
    int dst = offset;
    if (aligned && bytes == 16 && first_key + kMmaStageKeys <= end) {  // the steady state: whole chunks, every key
      for (int r = row0; r < kMmaStageKeys; r += row_step) {
        cp_async_16_full(half + dst, src);
        src += src_step;
        dst += dst_step;
      }
    } else if (aligned) {
      for (int r = row0; r < kMmaStageKeys; r += row_step) {
        const int size = first_key + r < end ? bytes : 0;
        cp_async_16(half + dst, size > 0 ? src : valid, size);
        src += src_step;
        dst += dst_step;
      }
    } else {
      for (int r = row0; r < kMmaStageKeys; r += row_step) {
        copy_chunk_plain<S>(half_pointer + dst, src, first_key + r < end ? bytes / static_cast<int>(sizeof(S)) : 0);
        src += src_step;
        dst += dst_step;
      }
    }
  }
};

// One warp's walk over its 8-key stages of the split — keys lo + (n · kWarps + w) · 8 … + 7 for warp w,
// n = 0, 1, … — through its own ring of mma_stages slots, then its state into the combine scratch (one part per
// warp, 8 rows of padded(Dv) columns). kKv: how K and V are stored (attention_splitkv_kv8.cuh); an 8-bit stage
// holds each row's bytes at the start of its 16-bit row and, for int8, the key's K and V scales right after them,
// and the lanes read their fragments' bytes and convert them in registers in place of the ldmatrix of K and V.
template <typename T, int kKv = kKvElement>
__device__ __forceinline__ CombineShape stream_split_mma(const AttentionParams<T>& params, const SplitSlice& slice,
                                                         int warp, int lane) {
  const int g = lane / 4, q = lane % 4;
  const int d_steps = mma_padded(params.head_dim) / 16;
  const int dv_steps = mma_padded(params.value_dim) / 16;
  const int ring_stages = mma_stages(params.head_dim, params.value_dim);
  const int stage_bytes = mma_stage_bytes(params.head_dim, params.value_dim);

  // Q's 8 rows and a zero row, zero-padded, as a shared tile after the rings: ldmatrix.x4 hands out the A
  // fragment of a step in register order — a0 and a2 from Q's rows, a1 and a3 (rows 8-15) from the zero row.
  // Loaded every stage rather than held: at D = 256 that would be 64 registers, half of them zeros (the mma takes
  // its A operand as a register quad).
  const int q_pitch = mma_pitch(params.head_dim);
  T* q_tile = reinterpret_cast<T*>(slice.shared + kWarps * ring_stages * stage_bytes);
  for (int x = static_cast<int>(threadIdx.x); x < (kMmaRows + 1) * q_pitch; x += kThreads) {
    const int r = x / q_pitch, c = x % q_pitch;
    const RowInfo& row = slice.rows[r < kMmaRows ? r : 0];
    // A row that sees no key is not read: past a varlen sequence's end it lies past the packed rows.
    q_tile[x] = r < slice.count && c < params.head_dim && row.range.lo < row.range.hi
                    ? params.q[slice.b * params.q_stride_b + row.head * params.q_stride_h +
                               (slice.q_first + row.pos) * params.q_stride_s + c]
                    : from_float<T>(0.0f);
  }
  __syncthreads();

  // Stage n of warp w is keys lo + (n · kWarps + w) · 8 … + 7. Every warp runs the block's stage count, the last
  // stages of some warps empty (zero-filled, all keys hidden): a trip count that depends on the block alone lets
  // the compiler see the warps converged at every ldmatrix and mma (no WARPSYNC before each).
  const int step = kWarps * kMmaStageKeys;
  const int first_key = slice.lo + warp * kMmaStageKeys;
  const int stages = (slice.hi - slice.lo + step - 1) / step;
  // Paged K/V: the kv head's base in the page pool, and each stage's page looked up as it is issued (a stage lies in
  // one page: page_size is a multiple of 8 and stages start on multiples of 8).
  const bool paged = is_paged(params);
  using S = typename KvStorage<T, kKv>::type;
  const S* k_stored = reinterpret_cast<const S*>(params.k);
  const S* v_stored = reinterpret_cast<const S*>(params.v);
  const StageCopy<S> k_copy(paged ? k_stored + slice.kv_head * params.k_stride_h
                                  : k_stored + slice.b * params.k_stride_b + slice.kv_head * params.k_stride_h +
                                        slice.k_first * params.k_stride_s,
                            params.k_stride_s, params.head_dim, lane);
  const StageCopy<S> v_copy(paged ? v_stored + slice.kv_head * params.v_stride_h
                                  : v_stored + slice.b * params.v_stride_b + slice.kv_head * params.v_stride_h +
                                        slice.k_first * params.v_stride_s,
                            params.v_stride_s, params.value_dim, lane);
  const bool k_aligned = rows_aligned(k_stored, params.k_stride_b, params.k_stride_h, params.k_stride_s);
  const bool v_aligned = rows_aligned(v_stored, params.v_stride_b, params.v_stride_h, params.v_stride_s);
  // int8's per-key scales: key r of a stage has its K scale at byte padded(D) of its K row, its V scale at byte
  // padded(Dv) of its V row (past the row's bytes, inside the 16-bit row). Lanes 0-7 copy the K scales, 8-15 the V.
  const int k_scale_byte = mma_padded(params.head_dim), v_scale_byte = mma_padded(params.value_dim);
  const int v_offset = kMmaStageKeys * k_copy.pitch;
  unsigned char* ring_pointer = slice.shared + warp * ring_stages * stage_bytes;
  const SharedAddress ring = shared_address_of(ring_pointer);
  auto issue = [&](int n, int slot) {  // stage n into the slot at byte `slot` of the ring
    const int key = first_key + n * step;
    long long k_row = key * params.k_stride_s, v_row = key * params.v_stride_s;
    long long scale_row = slice.b, scale_key = slice.k_first + key;
    if (paged && key < slice.hi) {  // a stage past the split's end copies nothing: no table entry to read for it
      const PageSlot at = page_slot(params, slice.b, key);
      k_row = at.page * params.k_stride_b + at.slot * params.k_stride_s;
      v_row = at.page * params.v_stride_b + at.slot * params.v_stride_s;
      scale_row = at.page;
      scale_key = at.slot;
    }
    k_copy.issue(ring + slot, ring_pointer + slot, key, slice.hi, k_row, params.k_stride_s, k_aligned, k_stored);
    v_copy.issue(ring + slot + v_offset, ring_pointer + slot + v_offset, key, slice.hi, v_row, params.v_stride_s,
                 v_aligned, v_stored);
    if (kKv == kKvInt8 && lane < 2 * kMmaStageKeys) {
      const int r = lane % kMmaStageKeys;  // the stage lies in one page: its slots are consecutive
      const bool is_v = lane >= kMmaStageKeys;
      const float* scales = is_v ? params.v_scale : params.k_scale;
      const int at = is_v ? v_offset + r * v_copy.pitch + v_scale_byte : r * k_copy.pitch + k_scale_byte;
      const bool present = key + r < slice.hi;
      cp_async_4(ring + slot + at,
                 present ? scales + scale_offset(params, scale_row, slice.kv_head, scale_key + r) : scales,
                 present ? 4 : 0);
    }
  };
  // e4m3's per-head scales, with what the conversion leaves out of the elements (kWidenFactor).
  float k_descale = 1.0f, v_descale = 1.0f;
  if (kKv == kKvE4m3) {
    const long long at = scale_offset(params, slice.b, slice.kv_head, 0);
    k_descale = params.k_scale[at] * kWidenFactor<T, kKv>;
    v_descale = params.v_scale[at] * kWidenFactor<T, kKv>;
  }
  for (int slot = 0; slot < ring_stages * stage_bytes; slot += stage_bytes) {
    k_copy.zero_padding(ring_pointer + slot);
    v_copy.zero_padding(ring_pointer + slot + v_offset);
  }
  // Prologue: ring_stages − 1 stages in flight. One commit per stage, empty or not, so that wait_group counts stages.
  for (int n = 0; n < ring_stages - 1; ++n) {
    if (n < stages) issue(n, n * stage_bytes);
    wm::cp_async_commit();
  }
  const int ring_bytes = ring_stages * stage_bytes;
  int read_slot = 0, write_slot = (ring_stages - 1) * stage_bytes;  // stage n's slot, and stage n + ring_stages − 1's

  // ldmatrix row addresses of this lane. Q (x4, the A fragment's quad in order): matrices 0 and 2 are columns 0-7
  // and 8-15 of a 16-column step of Q's rows, 1 and 3 (rows 8-15 of A) point all their rows at the tile's zero row.
  // K (x2, non-transposed) and V (x2, transposed): matrix (lane / 8) % 2 is columns 8 · ((lane / 8) % 2) … + 7 of a
  // step, lane % 8 its key (lanes 16-31 give addresses the instruction ignores).
  const int lane_column = 16 * ((lane / 8) % 2);  // bytes
  const SharedAddress q_base = shared_address_of(q_tile);
  const SharedAddress q_lane =
      q_base + ((lane / 8) % 2 == 1 ? kMmaRows : lane % 8) * q_pitch * 2 + 16 * (lane / 16);
  const int k_lane = (lane % 8) * k_copy.pitch + lane_column;
  const int v_lane = v_offset + (lane % 8) * v_copy.pitch + lane_column;

  // The online softmax of row g (every lane of its quad holds the same m; l is this lane's share of the sum) and
  // the accumulator Oᵀ: step mt holds value columns 16 mt + g (o[mt][0], [1]) and 16 mt + g + 8 ([2], [3]) of rows
  // 2q ([0], [2]) and 2q + 1 ([1], [3]).
  float m = -INFINITY, l = 0.0f;
  float o[kMmaSteps][4];
  for (int mt = 0; mt < kMmaSteps; ++mt) {
    for (int x = 0; x < 4; ++x) o[mt][x] = 0.0f;
  }
  // One division per block rather than one per score: '/' is a subroutine call. s · (1/cap) is within an ulp of
  // s / cap in the tanh argument.
  const float inv_softcap = params.softcap > 0.0f ? 1.0f / params.softcap : 0.0f;
  const bool plain = params.mask == nullptr && params.bias == nullptr;

  for (int n = 0; n < stages; ++n) {
    wait_for_stage(ring_stages);  // this lane's copies of stage n have landed
    __syncwarp();                 // … and every lane's; and every lane is done reading the slot refilled next
    if (n + ring_stages - 1 < stages) issue(n + ring_stages - 1, write_slot);
    wm::cp_async_commit();
    const int key0 = first_key + n * step;

    // S = Q · Kᵀ over the head dim: lane (g, q) gets row g's scores of keys 2q, 2q + 1 (s[0], s[1]).
    const SharedAddress slot = ring + read_slot;
    const unsigned char* slot_pointer = ring_pointer + read_slot;
    write_slot = read_slot;  // the next refill takes the slot read now
    read_slot = read_slot + stage_bytes == ring_bytes ? 0 : read_slot + stage_bytes;
    // A loop rather than 16 guarded steps: ptxas predicates guarded steps, and the ones past D would still issue.
    float s[4] = {};
#pragma unroll 2
    for (int ks = 0; ks < d_steps; ++ks) {
      uint32_t a[4], kb[2];
      ldsm_x4(a, q_lane + 32 * ks);
      if (kKv == kKvElement) {
        ldsm_x2(kb, slot + k_lane + 32 * ks);
      } else {  // row g's bytes 16 ks + 2q, + 1 and 16 ks + 2q + 8, + 9: what ldmatrix would hand this lane
        const unsigned char* k_bytes = slot_pointer + g * k_copy.pitch + 16 * ks + 2 * q;
        kb[0] = widen_pair<T, kKv>(*reinterpret_cast<const uint16_t*>(k_bytes));
        kb[1] = widen_pair<T, kKv>(*reinterpret_cast<const uint16_t*>(k_bytes + 8));
      }
      wm::mma_16816<T>(s, a, kb);
    }

    // Scores of row g in natural units, as attention_simt computes them; −∞ for keys the row does not see.
    float x[2] = {s[0], s[1]};
    const bool inside = slice.inside(key0, kMmaStageKeys, plain);
    for (int e = 0; e < 2; ++e) {
      float v = x[e];
      if (kKv == kKvInt8) {
        v *= *reinterpret_cast<const float*>(slot_pointer + (2 * q + e) * k_copy.pitch + k_scale_byte);
      } else if (kKv == kKvE4m3) {
        v *= k_descale;
      }
      v *= params.scale;
      if (params.softcap > 0.0f) {
        v = params.softcap * tanhf(v * inv_softcap);
      }
      if (!inside) {
        v = g < slice.count ? slice.visible_score(params, g, key0 + 2 * q + e, v) : -INFINITY;
      }
      x[e] = v;
    }

    // Online softmax of row g over the stage's 8 keys (its quad holds them all).
    float top = fmaxf(m, fmaxf(x[0], x[1]));
    top = fmaxf(top, __shfl_xor_sync(kFullWarp, top, 1));
    top = fmaxf(top, __shfl_xor_sync(kFullWarp, top, 2));
    // While no key is visible m stays −∞; subtracting 0 instead keeps exp2 away from −∞ − (−∞) = NaN.
    const float base = top == -INFINITY ? 0.0f : top;
    const float alpha = wm::exp2_approx((m - base) * kLog2e);  // 0 for the first visible key, 1 while m holds
    const float p0 = wm::exp2_approx((x[0] - base) * kLog2e);  // 0 for hidden keys (s = −∞)
    const float p1 = wm::exp2_approx((x[1] - base) * kLog2e);
    l = fmaf(l, alpha, p0 + p1);
    m = top;

    // Rescale the accumulator's rows 2q and 2q + 1 by their alphas (lanes 8q and 8q + 4 hold rows 2q, 2q + 1).
    const float alpha_even = __shfl_sync(kFullWarp, alpha, 8 * q);
    const float alpha_odd = __shfl_sync(kFullWarp, alpha, 8 * q + 4);
    if (alpha_even != 1.0f || alpha_odd != 1.0f) {  // once the maxima settle, most stages skip it
      for (int mt = 0; mt < kMmaSteps; ++mt) {
        o[mt][0] *= alpha_even;
        o[mt][1] *= alpha_odd;
        o[mt][2] *= alpha_even;
        o[mt][3] *= alpha_odd;
      }
    }

    // Oᵀ += Vᵀ · Pᵀ, 16 value columns a step.
    // The accumulator's steps must be unrolled (registers); unrolled by half up to Dv = 128, so that ptxas's
    // predicated steps past Dv do not issue there.
    // int8: key j's V scale folds into its p here (l above sums the unscaled p).
    float pv0 = p0, pv1 = p1;
    if (kKv == kKvInt8) {
      const unsigned char* v_scales = slot_pointer + v_offset + 2 * q * v_copy.pitch + v_scale_byte;
      pv0 *= *reinterpret_cast<const float*>(v_scales);
      pv1 *= *reinterpret_cast<const float*>(v_scales + v_copy.pitch);
    }
    const float hi0 = to_float(from_float<T>(pv0)), hi1 = to_float(from_float<T>(pv1));
    const uint32_t pb = wm::pack_pair<T>(hi0, hi1);
    const uint32_t pb_rest = wm::pack_pair<T>(pv0 - hi0, pv1 - hi1);  // exact differences, rounded once
    // 8-bit: Vᵀ's A fragment — value columns 16 mt + g and + 8 of keys 2q, 2q + 1 — from the stage's bytes.
    const unsigned char* v_bytes = slot_pointer + v_offset + 2 * q * v_copy.pitch + g;
    auto accumulate = [&](int mt) {
      uint32_t va[2];
      if (kKv == kKvElement) {
        ldsm_x2_trans(va, slot + v_lane + 32 * mt);
      } else {
        const unsigned char* at = v_bytes + 16 * mt;
        va[0] = widen_pair<T, kKv>(at[0] | (static_cast<uint32_t>(at[v_copy.pitch]) << 8));
        va[1] = widen_pair<T, kKv>(at[8] | (static_cast<uint32_t>(at[v_copy.pitch + 8]) << 8));
      }
      mma_1688<T>(o[mt], va, pb);
      mma_1688<T>(o[mt], va, pb_rest);
    };
    if (dv_steps <= kMmaSteps / 2) {
      for (int mt = 0; mt < kMmaSteps / 2; ++mt) {
        if (mt < dv_steps) accumulate(mt);
      }
    } else {
      for (int mt = 0; mt < kMmaSteps; ++mt) {
        if (mt < dv_steps) accumulate(mt);
      }
    }
  }
  wm::cp_async_wait<0>();  // only empty groups remain; none may outlive the block

  // The warp's state into the scratch, once every warp is done reading its ring: row g's m and l (l summed over
  // its quad), and the accumulator.
  l += __shfl_xor_sync(kFullWarp, l, 1);
  l += __shfl_xor_sync(kFullWarp, l, 2);
  __syncthreads();
  const CombineShape shape{kWarps, kMmaRows, mma_padded(params.value_dim)};
  const CombineScratch scratch(slice.shared, shape);
  if (q == 0) {
    scratch.m[warp * kMmaRows + g] = m;
    scratch.l[warp * kMmaRows + g] = l;
  }
  if (kKv == kKvE4m3) {  // the per-head V scale, once per accumulator
    for (int mt = 0; mt < kMmaSteps; ++mt) {
      for (int x = 0; x < 4; ++x) o[mt][x] *= v_descale;
    }
  }
  float* even_row = scratch.o + (warp * kMmaRows + 2 * q) * shape.width;
  float* odd_row = even_row + shape.width;
  for (int mt = 0; mt < kMmaSteps; ++mt) {
    if (mt < dv_steps) {
      even_row[16 * mt + g] = o[mt][0];
      odd_row[16 * mt + g] = o[mt][1];
      even_row[16 * mt + g + 8] = o[mt][2];
      odd_row[16 * mt + g + 8] = o[mt][3];
    }
  }
  return shape;
}

}  // namespace splitkv
}  // namespace attention
