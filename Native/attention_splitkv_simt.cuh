// The float partial block of attention_splitkv, on the FMA pipes (16-bit operands take the tensor cores instead:
// attention_splitkv_mma.cuh). Each warp streams its own keys of the split through its own ring of K/V stages,
// copied by 16-byte cp.async.cg as they are in memory and read back as two 16-byte shared loads per lane and key.
//
// Lanes. A lane owns 8 elements of a head row: the lanes of a warp form G = 32 / L groups of L lanes, one key per
// group, where L = the smallest power of two with 8 · L ≥ max(D, Dv) (L = 16 at D = 128, 32 at D = 256). Lane t of
// a group holds chunks t and t + L of the row (columns [4t, 4t + 4) and [4(t + L), 4(t + L) + 4)), so that its q
// slice and its output columns stay in registers (8 floats per row), and consecutive lanes touch consecutive
// 16 bytes of shared memory (no bank conflicts from L = 8 up). A dot product is 8 FMAs per lane and a butterfly over
// the group's L lanes; each group keeps its own online softmax over its keys, and the block combines its 4 · G
// groups at the end.
//
// Ring. A stage holds kKeysPerLane keys per group — 4 · G keys, K rows then V rows of 8 · L elements (padding
// zero-filled) — the same 2048 floats (8 KiB) whatever L. Each lane copies exactly the chunks it later reads, so a
// stage needs only the lane's own cp.async.wait_group: no __syncwarp, no __syncthreads in the loop, and a slot is
// refilled only after the same lane has read it.
#pragma once

#include "attention_splitkv_copy.cuh"

namespace attention {
namespace splitkv {

constexpr int kSimtRows = 4;      // query rows per float block: every warp holds all of them
constexpr int kLaneElements = 8;  // elements of a q, k, v or o row per lane
constexpr int kKeysPerLane = 4;   // keys each lane group takes from one stage
constexpr int kSimtChunkElements = kChunkBytes / static_cast<int>(sizeof(float));  // 4
constexpr int kSimtChunksPerLane = kLaneElements / kSimtChunkElements;             // 2
constexpr int kSimtStageBytes = kKeysPerLane * kWarpSize * 2 * kLaneElements * static_cast<int>(sizeof(float));
// 3 stages: 4 warps · 3 · 8 KiB = 96 KiB a block, two blocks an SM (attention_splitkv.cu records why).
constexpr int kSimtStages = 3;
constexpr int kSimtSharedBytes = kWarps * kSimtStages * kSimtStageBytes;
// The combine's scratch (4 warps · G groups, 4 rows, 8 · L columns, then maxima and sums) fits in the ring.
static_assert(kSimtSharedBytes >= (kWarps * kWarpSize * kSimtRows * kLaneElements + 2 * kWarps * kWarpSize * kSimtRows) *
                                      static_cast<int>(sizeof(float)), "the combine fits the ring");

// Lanes per key: the smallest power of two L with 8 · L ≥ max(head_dim, value_dim), at most 32.
__host__ __device__ constexpr int lanes_per_key(int head_dim, int value_dim) {
  const int dim = head_dim > value_dim ? head_dim : value_dim;
  int lanes = 1;
  while (lanes * kLaneElements < dim && lanes < kWarpSize) lanes *= 2;
  return lanes;
}

// A lane's place in its warp for a problem: its group (one key at a time) and its chunk within the group.
struct LaneLayout {
  int lanes;   // L: lanes per key
  int groups;  // G = 32 / L: keys a warp works on at once
  int group;   // g = lane / L
  int chunk;   // t = lane % L
  __device__ __forceinline__ LaneLayout(int head_dim, int value_dim, int lane)
      : lanes(lanes_per_key(head_dim, value_dim)), groups(kWarpSize / lanes), group(lane / lanes),
        chunk(lane % lanes) {}
  // Keys of one stage of a warp: kKeysPerLane per group.
  __device__ __forceinline__ int stage_keys() const { return kKeysPerLane * groups; }
  // The row column of this lane's element e (0 … 7).
  __device__ __forceinline__ int column(int e) const {
    return (chunk + lanes * (e / kSimtChunkElements)) * kSimtChunkElements + e % kSimtChunkElements;
  }
  // Byte offset in a stage half of this lane's chunk h of its key u: rows of 8 · L floats, key g + G · u at row
  // g + G · u, i.e. (g · 2L + t + h · L) · 16 + u · 1024.
  __device__ __forceinline__ int chunk_offset(int u, int h) const {
    const int row = group + groups * u;
    return (row * kLaneElements * lanes + (chunk + h * lanes) * kSimtChunkElements) * static_cast<int>(sizeof(float));
  }
};

// One operand (K or V) of a warp's ring, as this lane copies and reads it. Only what differs per lane is held here;
// strides and base pointers come from the parameter struct (constant bank: no registers).
struct RingOperand {
  const float* lane_row;           // the head's row of this lane's first key (group g), at its first chunk
  int bytes[kSimtChunksPerLane];   // of each of the lane's chunks within a row: 16, a tail, or 0 (padding)

  __device__ __forceinline__ RingOperand(const float* head, long long stride, int dim, const LaneLayout& lane) {
    lane_row = head + lane.group * stride + lane.chunk * kSimtChunkElements;
    for (int h = 0; h < kSimtChunksPerLane; ++h) {
      const int left = dim - (lane.chunk + h * lane.lanes) * kSimtChunkElements;
      bytes[h] = (left <= 0 ? 0 : left >= kSimtChunkElements ? kSimtChunkElements : left) *
                 static_cast<int>(sizeof(float));
    }
  }

  // Zeros this lane's padding chunks (wholly past the head dim) of the stage half at `half` (every slot's, once):
  // the copies skip them after.
  __device__ __forceinline__ void zero_padding(unsigned char* half, const LaneLayout& lane) const {
    for (int u = 0; u < kKeysPerLane; ++u) {
      for (int h = 0; h < kSimtChunksPerLane; ++h) {
        if (bytes[h] == 0) *reinterpret_cast<uint4*>(half + lane.chunk_offset(u, h)) = uint4{0u, 0u, 0u, 0u};
      }
    }
  }

  // Copies this lane's chunks of the stage's keys first_key + g + G · u (u < kKeysPerLane), rows `stride` elements
  // apart, into the stage half at `half`: zeros for keys at or past `end`. `aligned`: by cp.async, else by plain
  // loads. `valid` is an address inside the operand, the source of the zero-byte copies. Paged K/V (`paged`, the
  // operand's page stride `page_stride`): lane_row is then the kv head's base in the pool, and each key's page is
  // looked up (a stage's keys may lie in several pages: any page size runs here).
  __device__ __forceinline__ void issue(SharedAddress half, unsigned char* half_pointer, int first_key, int end,
                                        long long stride, bool aligned, const float* valid, const LaneLayout& lane,
                                        const AttentionParams<float>& params, bool paged, int b,
                                        long long page_stride) const {
    const float* src = lane_row + first_key * stride;
    const long long src_step = stride * lane.groups;
    int key = first_key + lane.group;
    // Not unrolled: the four keys' addresses would all stay live, and the loop body needs 20 fewer registers.
#pragma unroll 1
    for (int u = 0; u < kKeysPerLane; ++u) {
      const float* key_src = src;
      if (paged && key < end) {  // lane_row holds g · stride, which the slot replaces
        const PageSlot at = page_slot(params, b, key);
        key_src = lane_row + at.page * page_stride + (at.slot - lane.group) * stride;
      }
      for (int h = 0; h < kSimtChunksPerLane; ++h) {
        const int at = lane.chunk_offset(u, h);
        const float* from = key_src + h * lane.lanes * kSimtChunkElements;
        if (bytes[h] == 0) continue;  // padding, zeroed once
        if (!aligned) {
          copy_chunk_plain<float>(half_pointer + at, from, key < end ? bytes[h] / 4 : 0);
        } else if (bytes[h] == kChunkBytes && key < end) {  // the steady state: a whole chunk
          cp_async_16_full(half + at, from);
        } else {
          const int size = key < end ? bytes[h] : 0;
          cp_async_16(half + at, size > 0 ? from : valid, size);
        }
      }
      src += src_step;
      key += lane.groups;
    }
  }
};

// This lane's 8 elements of key u of a stage half (its own copies).
__device__ __forceinline__ void read_slice(const unsigned char* half, int u, const LaneLayout& lane,
                                           float (&x)[kLaneElements]) {
  for (int h = 0; h < kSimtChunksPerLane; ++h) {
    const float4 v = *reinterpret_cast<const float4*>(half + lane.chunk_offset(u, h));
    x[4 * h] = v.x, x[4 * h + 1] = v.y, x[4 * h + 2] = v.z, x[4 * h + 3] = v.w;
  }
}

// One warp's walk over its stages of the split for a block of kR rows (a compile-time count, so that every row
// loop is unrolled with no per-row test and no shuffle sits under a branch), then its lane groups' states into the
// combine scratch. Warp w takes the stages of keys lo + (n · kWarps + w) · KS … + KS − 1, n = 0, 1, …, through its
// own ring of kSimtStages slots. Returns the scratch's shape: 4 · G parts of 8 · L columns.
template <int kR>
__device__ __forceinline__ CombineShape stream_split_simt(const AttentionParams<float>& params, const SplitSlice& slice,
                                                  int warp, int lane) {
  const LaneLayout layout(params.head_dim, params.value_dim, lane);
  // This lane's q slices (read once, by plain loads).
  float q[kR][kLaneElements];
  for (int r = 0; r < kR; ++r) {
    const RowInfo& row = slice.rows[r];
    const float* q_row =
        params.q + slice.b * params.q_stride_b + row.head * params.q_stride_h + (slice.q_first + row.pos) * params.q_stride_s;
    for (int e = 0; e < kLaneElements; ++e) {
      const int c = layout.column(e);
      // A row that sees no key is not read: past a varlen sequence's end it lies past the packed rows.
      q[r][e] = c < params.head_dim && row.range.lo < row.range.hi ? __ldg(&q_row[c]) : 0.0f;
    }
  }

  const int stage_keys = layout.stage_keys();
  const int step = kWarps * stage_keys;
  const int first_key = slice.lo + warp * stage_keys;
  const int stages = slice.hi > first_key ? (slice.hi - first_key + step - 1) / step : 0;
  // Paged K/V: the kv head's base in the page pool; RingOperand::issue looks each key's page up.
  const bool paged = is_paged(params);
  const RingOperand k_ring(paged ? params.k + slice.kv_head * params.k_stride_h
                                 : params.k + slice.b * params.k_stride_b + slice.kv_head * params.k_stride_h +
                                       slice.k_first * params.k_stride_s,
                           params.k_stride_s, params.head_dim, layout);
  const RingOperand v_ring(paged ? params.v + slice.kv_head * params.v_stride_h
                                 : params.v + slice.b * params.v_stride_b + slice.kv_head * params.v_stride_h +
                                       slice.k_first * params.v_stride_s,
                           params.v_stride_s, params.value_dim, layout);
  const bool k_aligned = rows_aligned(params.k, params.k_stride_b, params.k_stride_h, params.k_stride_s);
  const bool v_aligned = rows_aligned(params.v, params.v_stride_b, params.v_stride_h, params.v_stride_s);
  unsigned char* ring_pointer = slice.shared + warp * kSimtStages * kSimtStageBytes;
  const SharedAddress ring = shared_address_of(ring_pointer);
  for (int slot = 0; slot < kSimtStages * kSimtStageBytes; slot += kSimtStageBytes) {
    k_ring.zero_padding(ring_pointer + slot, layout);
    v_ring.zero_padding(ring_pointer + slot + kSimtStageBytes / 2, layout);
  }
  auto issue = [&](int n) {
    const int slot = (n % kSimtStages) * kSimtStageBytes;
    const int key = first_key + n * step;
    k_ring.issue(ring + slot, ring_pointer + slot, key, slice.hi, params.k_stride_s, k_aligned, params.k, layout,
                 params, paged, slice.b, params.k_stride_b);
    v_ring.issue(ring + slot + kSimtStageBytes / 2, ring_pointer + slot + kSimtStageBytes / 2, key, slice.hi,
                 params.v_stride_s, v_aligned, params.v, layout, params, paged, slice.b, params.v_stride_b);
  };
  // Prologue: kSimtStages − 1 stages in flight. One commit per stage, empty or not, so that wait_group counts stages.
  for (int n = 0; n < kSimtStages - 1; ++n) {
    if (n < stages) issue(n);
    wm::cp_async_commit();
  }

  // The online-softmax state of this lane's group per row: running max m (−∞ until a key is visible), Σ exp(s − m)
  // and this lane's output columns. Every lane of a group holds the same m and l.
  float m[kR], l[kR], acc[kR][kLaneElements];
  for (int r = 0; r < kR; ++r) {
    m[r] = -INFINITY;
    l[r] = 0.0f;
    for (int e = 0; e < kLaneElements; ++e) acc[r][e] = 0.0f;
  }
  // One division per block rather than one per score: '/' is a subroutine call. s · (1/cap) is within an ulp of
  // s / cap in the tanh argument.
  const float inv_softcap = params.softcap > 0.0f ? 1.0f / params.softcap : 0.0f;
  const bool plain = params.mask == nullptr && params.bias == nullptr;

  for (int n = 0; n < stages; ++n) {
    wm::cp_async_wait<kSimtStages - 2>();  // stage n has landed (this lane's copies: all it reads)
    if (n + kSimtStages - 1 < stages) issue(n + kSimtStages - 1);  // into the slot this lane read at n − 1
    wm::cp_async_commit();
    const unsigned char* k_half = ring_pointer + (n % kSimtStages) * kSimtStageBytes;
    const unsigned char* v_half = k_half + kSimtStageBytes / 2;
    const int key0 = first_key + n * step;

    // s = q · k for the group's kKeysPerLane keys and every row: 8 FMAs per lane in two chains, then a butterfly
    // over the group's L lanes (every lane of the group ends with the same bits: see warp_sum).
    float s[kKeysPerLane][kR];
    for (int u = 0; u < kKeysPerLane; ++u) {
      float kx[kLaneElements];
      read_slice(k_half, u, layout, kx);
      for (int r = 0; r < kR; ++r) {
        float even = 0.0f, odd = 0.0f;
        for (int e = 0; e < kLaneElements; e += 2) {
          even = fmaf(q[r][e], kx[e], even);
          odd = fmaf(q[r][e + 1], kx[e + 1], odd);
        }
        s[u][r] = even + odd;
      }
    }
    for (int offset = layout.lanes / 2; offset > 0; offset /= 2) {
      for (int u = 0; u < kKeysPerLane; ++u) {
        for (int r = 0; r < kR; ++r) s[u][r] += __shfl_xor_sync(kFullWarp, s[u][r], offset);
      }
    }

    // Scores in natural units, as attention_simt computes them; −∞ for keys a row does not see.
    const bool inside = slice.inside(key0, stage_keys, plain);
    for (int u = 0; u < kKeysPerLane; ++u) {
      const int j = key0 + layout.group + layout.groups * u;
      for (int r = 0; r < kR; ++r) {
        float x = s[u][r] * params.scale;
        if (params.softcap > 0.0f) {
          x = params.softcap * tanhf(x * inv_softcap);
        }
        s[u][r] = inside ? x : slice.visible_score(params, r, j, x);
      }
    }

    // Online softmax per row over the group's keys of this stage; s becomes p = exp(s − m).
    for (int r = 0; r < kR; ++r) {
      float top = m[r];
      for (int u = 0; u < kKeysPerLane; ++u) top = fmaxf(top, s[u][r]);
      // While no key is visible m stays −∞; subtracting 0 instead keeps exp2 away from −∞ − (−∞) = NaN.
      const float base = top == -INFINITY ? 0.0f : top;
      const float alpha = wm::exp2_approx((m[r] - base) * kLog2e);  // 0 for the first visible key, 1 while m holds
      float sum = 0.0f;
      for (int u = 0; u < kKeysPerLane; ++u) {
        s[u][r] = wm::exp2_approx((s[u][r] - base) * kLog2e);  // 0 for hidden keys (s = −∞)
        sum += s[u][r];
      }
      l[r] = fmaf(l[r], alpha, sum);
      m[r] = top;
      if (alpha != 1.0f) {  // once the max settles, most stages skip the rescale
        for (int e = 0; e < kLaneElements; ++e) acc[r][e] *= alpha;
      }
    }

    // O += P · V over the same keys: this lane's 8 value columns, every row.
    for (int u = 0; u < kKeysPerLane; ++u) {
      float vx[kLaneElements];
      read_slice(v_half, u, layout, vx);
      for (int r = 0; r < kR; ++r) {
        for (int e = 0; e < kLaneElements; ++e) acc[r][e] = fmaf(s[u][r], vx[e], acc[r][e]);
      }
    }
  }
  wm::cp_async_wait<0>();  // only empty groups remain; none may outlive the block

  // The lane groups' states into the scratch, once every warp is done reading its ring.
  __syncthreads();
  const CombineShape shape{kWarps * layout.groups, kSimtRows, kLaneElements * layout.lanes};
  const CombineScratch scratch(slice.shared, shape);
  const int width = shape.width;
  const int part = warp * layout.groups + layout.group;
  for (int r = 0; r < kR; ++r) {
    for (int e = 0; e < kLaneElements; ++e) scratch.o[(part * kSimtRows + r) * width + layout.column(e)] = acc[r][e];
    if (layout.chunk == 0) {
      scratch.m[part * kSimtRows + r] = m[r];
      scratch.l[part * kSimtRows + r] = l[r];
    }
  }
  return shape;
}

}  // namespace splitkv
}  // namespace attention
