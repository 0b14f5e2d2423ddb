// kv_cache_append_*, kv_cache_{quantize,dequantize}_{int8,e4m3}_*: the layers' key/value caches on the GPU
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
// The fp8 format is the CPU's too (Managed/Attention.Native/Cpu/Decode/Float8E4M3Quantizer.cs), bit for bit: OCP
// e4m3fn bytes with one float scale per KV head, set by the caller (scales[h]; the kernels only read it), each element
// stored as e4m3(x / s), rounded to nearest even by integer arithmetic on the float's bits, saturated at ±448 (an
// infinity too), NaN kept NaN (0x7F with its sign).
//
// Rows are addressed through positions: source row r (a projected token's keys or values, rows row_stride elements
// apart, heads side by side) goes to cache position p(r), whose elements (or bytes) are at p·heads·dim + h·dim and whose
// int8 scales are scales[p·heads + h] (e4m3's scales[h]). p(r) = (s(r / run))·run_stride + offset + r % run: run r / run
// of rows goes to the positions from s·run_stride + offset on, where s is positions[r / run] where the caller lists
// them (a paged pool's slots with run 1 and run_stride 1, or its pages with run and run_stride the page size), else r /
// run itself (the contiguous cache: sequence r / run, sequences run_stride positions apart). Dequantising reads
// position p(r) into row r the same way round.
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
  float* scales;                    // int8: [positions, heads]; e4m3: [heads]
  const long long* positions;       // [rows / run] first cache position of each run; null: the contiguous rule below
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
  const long long run = p.positions != nullptr ? p.positions[r / p.run] : r / p.run;
  return (run * p.run_stride) + p.offset + (r % p.run);
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

// The e4m3fn code of value: 448 and up (an infinity too) saturate to 0x7E, NaN is 0x7F, below 2^−6 steps of 2^−9
// (the product is exact), else the 23 mantissa bits rounded to 3, ties to even, and the exponent rebiased 127 → 7.
__device__ __forceinline__ unsigned char encode_e4m3(float value) {
  const unsigned int bits = static_cast<unsigned int>(__float_as_int(value));
  const unsigned int sign = (bits >> 24) & 0x80u;
  const unsigned int magnitude = bits & 0x7FFFFFFFu;
  unsigned int code;
  if (magnitude > 0x7F800000u) {
    code = 0x7Fu;
  } else if (magnitude >= 0x43E00000u) {
    code = 0x7Eu;
  } else if (magnitude < 0x3C800000u) {
    code = static_cast<unsigned int>(rintf(__int_as_float(static_cast<int>(magnitude)) * 512.f));
  } else {
    code = ((magnitude + 0x7FFFFu + ((magnitude >> 20) & 1u)) >> 20) - (120u << 3);
  }

  return static_cast<unsigned char>(sign | code);
}

// The value of an e4m3fn code, exactly: its bits sign-extended, shifted left 20 and masked are the float bits of the
// value · 2^−120 (subnormals included); the NaN codes would read as ±480.
__device__ __forceinline__ float decode_e4m3(unsigned char code) {
  if ((code & 0x7Fu) == 0x7Fu) {
    return CUDART_NAN_F;
  }

  const unsigned int extended = static_cast<unsigned int>(static_cast<int>(static_cast<signed char>(code)));
  return __int_as_float(static_cast<int>((extended << 20) & 0x87F00000u)) * __int_as_float(0x7B800000);
}

template <typename T>
__device__ void quantize_e4m3(const KvCacheParams<T>& p) {
  Slot<T> slot;
  if (!slot_of(p, slot)) {
    return;
  }

  const float scale = p.scales[blockIdx.y];
  unsigned char* target = reinterpret_cast<unsigned char*>(p.cache + slot.offset);
  for (int x = threadIdx.x; x < p.dim; x += kThreads) {
    target[x] = encode_e4m3(to_float(slot.row[x]) / scale);
  }
}

template <typename T>
__device__ void dequantize_e4m3(const KvCacheParams<T>& p) {
  Slot<T> slot;
  if (!slot_of(p, slot)) {
    return;
  }

  const unsigned char* source = reinterpret_cast<const unsigned char*>(p.cache + slot.offset);
  const float scale = p.scales[blockIdx.y];
  for (int x = threadIdx.x; x < p.dim; x += kThreads) {
    slot.row[x] = from_float<T>(decode_e4m3(source[x]) * scale);
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
  }                                                                                                         \
  extern "C" __global__ void __launch_bounds__(attention::kv_cache::kThreads)                               \
      kv_cache_quantize_e4m3_##suffix(const __grid_constant__ attention::KvCacheParams<T> params) {      \
    KERNEL_REPORT_LAUNCH(attention::kv_cache::kThreads, 0);                                                 \
    attention::kv_cache::quantize_e4m3<T>(params);                                                          \
  }                                                                                                         \
  extern "C" __global__ void __launch_bounds__(attention::kv_cache::kThreads)                               \
      kv_cache_dequantize_e4m3_##suffix(const __grid_constant__ attention::KvCacheParams<T> params) {    \
    KERNEL_REPORT_LAUNCH(attention::kv_cache::kThreads, 0);                                                 \
    attention::kv_cache::dequantize_e4m3<T>(params);                                                        \
  }

KV_CACHE_ENTRIES(f32, float)
KV_CACHE_ENTRIES(f16, __half)
KV_CACHE_ENTRIES(bf16, __nv_bfloat16)
