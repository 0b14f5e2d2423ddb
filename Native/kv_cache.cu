// kv_cache_append_*, kv_cache_quantize_int8_* and kv_cache_dequantize_int8_*: the layers' key/value caches on the GPU
// (contract: Native/README.md). Appending copies projected rows into a paged pool's slots in one launch (a copy per
// row from the host would cost a driver call each). The int8 format is the CPU's
// (Managed/Attention.Native/Cpu/Decode/Int8Quantizer.cs), bit for bit, so a cache reads the same on either backend:
//
//   each row of dim elements (one position's keys or values for one KV head) is stored as signed bytes q with one
//   float scale s = max|x| / 127, q = round(x / s) (to nearest, ties to even; in [−127, 127]); it stands for q·s.
//   A row of zeros has scale 0; a row holding an infinity or NaN has scale NaN and bytes 0.
//
// IEEE division (nvcc's default -prec-div=true; no fast math) and rintf give the CPU's roundings: max / 127 and
// x / s are correctly rounded there too, and MathF.Round rounds ties to even as rintf does.
//
// Rows are addressed through positions: source row r (a projected token's keys or values, rows row_stride elements
// apart, heads side by side) goes to cache position p(r), whose elements (or bytes) are at p·heads·dim + h·dim and whose
// scales are scales[p·heads + h]. p(r) = positions[r] where the caller lists them (a paged pool's slots), else the
// contiguous cache's rule p(r) = (r / run)·run_stride + offset + r % run (sequence r / run, its position offset + r %
// run, sequences run_stride positions apart). Dequantising reads position p(r) into row r the same way round.
//
// Launch: grid (rows, heads), block 32: one warp per (row, head), each lane owning elements lane, lane + 32, ...; the
// row's largest magnitude is reduced with butterfly shuffles, so every lane holds the scale without shared memory.

// ./build.sh test checks that the largest magnitude reduces with butterfly shuffles (Native/check.sh, "sass-check"):
// sass-check: kv_cache_quantize_int8_f16 SHFL.BFLY

#include <math_constants.h>

#include "attention_common.cuh"
#include "kernel_report.cuh"

namespace attention {

// The one parameter of the kv_cache_* kernels (Native/README.md). The launcher generator emits the C# struct
// Attention.Native.Cuda.Interop.KvCacheParams<T> from it, field for field in C's layout.
template <typename T>
struct KvCacheParams {
  T* rows;                          // [row_count, row_stride]: append and quantise read, dequantise writes
  T* pool;                          // [positions, heads, dim]: append writes (null for the int8 kernels)
  signed char* cache;               // [positions, heads, dim]: quantise writes, dequantise reads
  float* scales;                    // [positions, heads]
  const long long* positions;       // [rows] cache position of each row; null: the contiguous rule below
  long long row_stride;             // elements between consecutive rows of `rows`
  long long run_stride;             // contiguous rule: positions between sequences
  long long offset;                 // contiguous rule: the first position of each sequence's run
  int run;                          // contiguous rule: rows per sequence
  int row_count, heads, dim;
};

namespace kv_cache {

constexpr int kThreads = 32;
constexpr float kLevels = 127.f;

template <typename T>
__device__ __forceinline__ long long position_of(const KvCacheParams<T>& p, int r) {
  return p.positions != nullptr ? p.positions[r]
                                : (static_cast<long long>(r / p.run) * p.run_stride) + p.offset + (r % p.run);
}

// The block's (row, head): its row of `rows` (head h's dim elements), its cache position and the element offset of
// that position's head h in a [positions, heads, dim] cache or pool. False for a block past the grid's work.
template <typename T>
struct Slot {
  T* row;
  long long at, offset;
};

template <typename T>
__device__ __forceinline__ bool slot_of(const KvCacheParams<T>& p, Slot<T>& slot) {
  const int r = blockIdx.x, h = blockIdx.y;
  if (r >= p.row_count || h >= p.heads) {
    return false;
  }

  slot.row = p.rows + (static_cast<long long>(r) * p.row_stride) + (static_cast<long long>(h) * p.dim);
  slot.at = position_of(p, r);
  slot.offset = (slot.at * p.heads + h) * p.dim;
  return true;
}

template <typename T>
__device__ void append(const KvCacheParams<T>& p) {
  Slot<T> slot;
  if (!slot_of(p, slot)) {
    return;
  }

  for (int x = threadIdx.x; x < p.dim; x += kThreads) {
    p.pool[slot.offset + x] = slot.row[x];
  }
}

template <typename T>
__device__ void quantize(const KvCacheParams<T>& p) {
  Slot<T> slot;
  if (!slot_of(p, slot)) {
    return;
  }

  const int lane = threadIdx.x, h = blockIdx.y;
  const T* source = slot.row;
  const long long at = slot.at;
  signed char* target = p.cache + slot.offset;
  float largest = 0.f;
  bool finite = true;
  for (int x = lane; x < p.dim; x += kThreads) {
    const float v = to_float(source[x]);
    finite &= fabsf(v) < CUDART_INF_F;  // false for an infinity and for NaN
    largest = fmaxf(largest, fabsf(v));
  }

  for (int offset = 16; offset > 0; offset >>= 1) {
    largest = fmaxf(largest, __shfl_xor_sync(0xffffffffu, largest, offset));
  }

  finite = __all_sync(0xffffffffu, finite);
  const float scale = !finite ? CUDART_NAN_F : largest / kLevels;
  for (int x = lane; x < p.dim; x += kThreads) {
    float q = 0.f;
    if (finite && largest != 0.f) {
      q = fminf(fmaxf(rintf(to_float(source[x]) / scale), -kLevels), kLevels);
    }

    target[x] = static_cast<signed char>(q);
  }

  if (lane == 0) {
    p.scales[at * p.heads + h] = largest == 0.f && finite ? 0.f : scale;
  }
}

template <typename T>
__device__ void dequantize(const KvCacheParams<T>& p) {
  Slot<T> slot;
  if (!slot_of(p, slot)) {
    return;
  }

  const signed char* source = p.cache + slot.offset;
  const float scale = p.scales[slot.at * p.heads + blockIdx.y];
  T* target = slot.row;
  for (int x = threadIdx.x; x < p.dim; x += kThreads) {
    // q·s in fp32, then one rounding to T: the CPU's Int8Quantizer.Dequantize and ElementType.FromSingle.
    target[x] = from_float<T>(static_cast<float>(source[x]) * scale);
  }
}

}  // namespace kv_cache
}  // namespace attention

#define KV_CACHE_ENTRIES(suffix, T)                                                                         \
  extern "C" __global__ void __launch_bounds__(attention::kv_cache::kThreads)                              \
      kv_cache_append_##suffix(const __grid_constant__ attention::KvCacheParams<T> params) {               \
    KERNEL_REPORT_LAUNCH(attention::kv_cache::kThreads, 0);                                                \
    attention::kv_cache::append<T>(params);                                                                \
  }                                                                                                         \
  extern "C" __global__ void __launch_bounds__(attention::kv_cache::kThreads)                               \
      kv_cache_quantize_int8_##suffix(const __grid_constant__ attention::KvCacheParams<T> params) {      \
    KERNEL_REPORT_LAUNCH(attention::kv_cache::kThreads, 0);                                                 \
    attention::kv_cache::quantize<T>(params);                                                               \
  }                                                                                                         \
  extern "C" __global__ void __launch_bounds__(attention::kv_cache::kThreads)                               \
      kv_cache_dequantize_int8_##suffix(const __grid_constant__ attention::KvCacheParams<T> params) {    \
    KERNEL_REPORT_LAUNCH(attention::kv_cache::kThreads, 0);                                                 \
    attention::kv_cache::dequantize<T>(params);                                                             \
  }

KV_CACHE_ENTRIES(f32, float)
KV_CACHE_ENTRIES(f16, __half)
KV_CACHE_ENTRIES(bf16, __nv_bfloat16)
