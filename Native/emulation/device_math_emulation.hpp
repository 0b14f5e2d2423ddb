// The device's math, as approximate as CUDA documents it, for kernel code compiled on the host: a host library's
// correctly rounded exp2 or exp would let a kernel pass that only holds its tolerance on exact arithmetic.
//
// Each function returns the correctly rounded result moved by a deterministic number of units in the last place
// (chosen by a hash of the input, so a run is reproducible) within the documented bound, keeps the exact results the
// documentation lists for special inputs, and flushes subnormals where the instruction does (.ftz):
//   ex2.approx.ftz.f32 (warp_matrix.cuh's exp2_approx)   2 ulp; subnormal inputs and results flushed to zero
//                                                          (PTX ISA, "ex2"); −∞ → +0, ±0 → 1, +∞ → +∞
//   exp2f (ex2.approx.f32)                                2 ulp (PTX ISA, "ex2"; CUDA Math API)
//   expf, tanhf                                           2 ulp (CUDA Math API, single-precision functions)
//   logf                                                  1 ulp (CUDA Math API)
//   __fdividef (div.approx.f32)                           2 ulp for 2^−126 ≤ |y| ≤ 2^126; 0 (NaN for an infinite
//                                                          x) for 2^126 < |y| < 2^128 (PTX ISA, "div")
// Kernel sources call expf, exp2f, tanhf and logf by their C names: the macros at the end of this header route those
// calls here, so include it after every standard header and before the kernels (cuda_fiber_runtime.hpp does).
#pragma once

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace emulation {
namespace device_math {

inline uint32_t bits_of(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits;
}

// The error to apply for an input, in [−max_ulp, max_ulp] ulps: a hash of the input's bits and the function's salt.
inline int error_ulps(uint32_t input_bits, uint32_t salt, int max_ulp) {
  uint32_t h = input_bits * 0x9e3779b1u ^ salt * 0x85ebca6bu;
  h ^= h >> 16;
  h *= 0x7feb352du;
  h ^= h >> 15;
  h *= 0x846ca68bu;
  h ^= h >> 16;
  return static_cast<int>(h % static_cast<uint32_t>(2 * max_ulp + 1)) - max_ulp;
}

// `rounded` moved by `ulps` representable values, neither across zero nor beyond the finite range.
inline float step_ulps(float rounded, int ulps) {
  if (!std::isfinite(rounded) || rounded == 0.0f) return rounded;
  float r = rounded;
  for (int i = 0; i < (ulps < 0 ? -ulps : ulps); ++i) {
    const float next = std::nextafter(r, ulps > 0 ? INFINITY : -INFINITY);
    if (!std::isfinite(next) || next == 0.0f || std::signbit(next) != std::signbit(rounded)) break;
    r = next;
  }
  return r;
}

// .ftz: a subnormal becomes a zero of its sign.
inline float flush(float x) { return std::fpclassify(x) == FP_SUBNORMAL ? std::copysign(0.0f, x) : x; }

// The correctly rounded `exact`, moved within `max_ulp` by the input's hash.
inline float approximate(double exact, float input, uint32_t salt, int max_ulp) {
  return step_ulps(static_cast<float>(exact), error_ulps(bits_of(input), salt, max_ulp));
}

// ex2.approx.f32: 2 ulp from the correctly rounded result.
inline float ex2_approx(float x) {
  if (std::isnan(x)) return x;
  if (x == 0.0f) return 1.0f;
  if (std::isinf(x)) return x > 0 ? x : 0.0f;
  return approximate(std::exp2(static_cast<double>(x)), x, 1, 2);
}

// ex2.approx.ftz.f32: ex2.approx with subnormal inputs and results flushed to zero.
inline float ex2_approx_ftz(float x) { return flush(ex2_approx(flush(x))); }

inline float expf_device(float x) {
  if (std::isnan(x)) return x;
  if (x == 0.0f) return 1.0f;
  if (std::isinf(x)) return x > 0 ? x : 0.0f;
  return approximate(std::exp(static_cast<double>(x)), x, 2, 2);
}

inline float tanhf_device(float x) {
  if (std::isnan(x) || x == 0.0f) return x;
  if (std::isinf(x)) return std::copysign(1.0f, x);
  const float r = approximate(std::tanh(static_cast<double>(x)), x, 3, 2);
  return std::fabs(r) > 1.0f ? std::copysign(1.0f, x) : r;
}

inline float logf_device(float x) {
  if (std::isnan(x) || x < 0.0f) return x < 0.0f ? NAN : x;
  if (x == 0.0f) return -INFINITY;
  if (x == 1.0f) return 0.0f;
  if (std::isinf(x)) return x;
  return approximate(std::log(static_cast<double>(x)), x, 4, 1);
}

// div.approx.f32: x · (1/y), 2 ulp for 2^−126 ≤ |y| ≤ 2^126; beyond 2^126, 1/y underflows: a signed zero (NaN for
// an infinite x).
inline float fdivide_approx(float x, float y) {
  const float magnitude = std::fabs(y);
  if (magnitude > 0x1p126f && std::isfinite(y)) {
    return std::isinf(x) ? NAN : std::copysign(0.0f, x) * std::copysign(1.0f, y);
  }
  const float exact = x / y;
  if (!std::isfinite(exact) || exact == 0.0f || magnitude < 0x1p-126f) return exact;
  return step_ulps(exact, error_ulps(bits_of(x) ^ (bits_of(y) * 0x2545f491u), 5, 2));
}

}  // namespace device_math
}  // namespace emulation

inline float __fdividef(float x, float y) { return emulation::device_math::fdivide_approx(x, y); }

#define expf(x) ::emulation::device_math::expf_device(x)
#define exp2f(x) ::emulation::device_math::ex2_approx(x)
#define tanhf(x) ::emulation::device_math::tanhf_device(x)
#define logf(x) ::emulation::device_math::logf_device(x)
