// kv_cache_quantize_int8_* and kv_cache_dequantize_int8_*: the layers' int8 key/value caches on the GPU (contract:
// Native/README.md). The format is the CPU's (Managed/Attention.Native/Cpu/Decode/Int8Quantizer.cs), bit for bit, so
// a cache reads the same on either backend:
//
//   each row of dim elements (one position's keys or values for one KV head) is stored as signed bytes q with one
//   float scale s = max|x| / 127, q = round(x / s) (to nearest, ties to even; in [−127, 127]); it stands for q·s.
//   A row of zeros has scale 0; a row holding an infinity or NaN has scale NaN and bytes 0.
//
// IEEE division (nvcc's default -prec-div=true; no fast math) and rintf give the CPU's roundings: max / 127 and
// x / s are correctly rounded there too, and MathF.Round rounds ties to even as rintf does.
//
// Rows are addressed through positions: source row r (a projected token's keys or values, rows row_stride elements
// apart, heads side by side) goes to cache position p(r), whose bytes are cache[p·heads·dim + h·dim ...] and whose
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

// The one parameter of the kv_cache_*_int8 kernels (Native/README.md). The launcher generator emits the C# struct
// Attention.Native.Cuda.Interop.KvCacheInt8Params<T> from it, field for field in C's layout.
template <typename T>
struct KvCacheInt8Params {
  T* rows;                          // [row_count, row_stride]: quantise reads, dequantise writes
  signed char* cache;               // [positions, heads, dim]
  float* scales;                    // [positions, heads]
  const long long* positions;       // [rows] cache position of each row; null: the contiguous rule below
  long long row_stride;             // elements between consecutive rows of `rows`
  long long run_stride;             // contiguous rule: positions between sequences
  long long offset;                 // contiguous rule: the first position of each sequence's run
  int run;                          // contiguous rule: rows per sequence
  int row_count, heads, dim;
};

namespace kv_int8 {

constexpr int kThreads = 32;
constexpr float kLevels = 127.f;

template <typename T>
__device__ __forceinline__ long long position_of(const KvCacheInt8Params<T>& p, int r) {
  return p.positions != nullptr ? p.positions[r]
                                : (static_cast<long long>(r / p.run) * p.run_stride) + p.offset + (r % p.run);
}

template <typename T>
__device__ void quantize(const KvCacheInt8Params<T>& p) {
  const int r = blockIdx.x, h = blockIdx.y, lane = threadIdx.x;
  if (r >= p.row_count || h >= p.heads) {
    return;
  }

  const T* source = p.rows + (static_cast<long long>(r) * p.row_stride) + (static_cast<long long>(h) * p.dim);
  const long long at = position_of(p, r);
  signed char* target = p.cache + ((at * p.heads + h) * p.dim);
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
__device__ void dequantize(const KvCacheInt8Params<T>& p) {
  const int r = blockIdx.x, h = blockIdx.y, lane = threadIdx.x;
  if (r >= p.row_count || h >= p.heads) {
    return;
  }

  const long long at = position_of(p, r);
  const signed char* source = p.cache + ((at * p.heads + h) * p.dim);
  const float scale = p.scales[at * p.heads + h];
  T* target = p.rows + (static_cast<long long>(r) * p.row_stride) + (static_cast<long long>(h) * p.dim);
  for (int x = lane; x < p.dim; x += kThreads) {
    // q·s in fp32, then one rounding to T: the CPU's Int8Quantizer.Dequantize and ElementType.FromSingle.
    target[x] = from_float<T>(static_cast<float>(source[x]) * scale);
  }
}

}  // namespace kv_int8
}  // namespace attention

#define KV_CACHE_INT8_ENTRIES(suffix, T)                                                                    \
  extern "C" __global__ void __launch_bounds__(attention::kv_int8::kThreads)                               \
      kv_cache_quantize_int8_##suffix(const __grid_constant__ attention::KvCacheInt8Params<T> params) {      \
    KERNEL_REPORT_LAUNCH(attention::kv_int8::kThreads, 0);                                                 \
    attention::kv_int8::quantize<T>(params);                                                               \
  }                                                                                                         \
  extern "C" __global__ void __launch_bounds__(attention::kv_int8::kThreads)                               \
      kv_cache_dequantize_int8_##suffix(const __grid_constant__ attention::KvCacheInt8Params<T> params) {    \
    KERNEL_REPORT_LAUNCH(attention::kv_int8::kThreads, 0);                                                 \
    attention::kv_int8::dequantize<T>(params);                                                             \
  }

KV_CACHE_INT8_ENTRIES(f32, float)
KV_CACHE_INT8_ENTRIES(f16, __half)
KV_CACHE_INT8_ENTRIES(bf16, __nv_bfloat16)
