// The cuBLAS calls Managed/Attention.Native binds, for the emulated device of device/cuda_driver.cpp: a shared
// library named like cuBLAS whose GEMMs run on the host (device memory there is host memory). Column-major as cuBLAS,
// host pointer mode, fp32/fp16/bf16 operands accumulated in double — it checks the host code's operand order,
// transposes, leading dimensions, strides and types, not cuBLAS's speed or rounding. A test double: it loads only when
// a test run puts its folder first on LD_LIBRARY_PATH.

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <cstdio>

namespace {

using Status = int;
constexpr Status kSuccess = 0, kNotInitialized = 1, kInvalidValue = 7, kNotSupported = 15;
constexpr int kR32F = 0, kR16F = 2, kR16BF = 14;
constexpr int kCompute16F = 64, kCompute32F = 68, kCompute32FPedantic = 69, kCompute32FFast16F = 74,
              kCompute32FFast16BF = 75, kCompute32FFastTf32 = 77;

struct Handle {
  void* stream = nullptr;
  int math_mode = 0;
};

bool known_type(int type) { return type == kR32F || type == kR16F || type == kR16BF; }

double load(int type, const void* base, long long index) {
  switch (type) {
    case kR32F: return static_cast<const float*>(base)[index];
    case kR16F: return static_cast<double>(__half2float(static_cast<const __half*>(base)[index]));
    default: return static_cast<double>(__bfloat162float(static_cast<const __nv_bfloat16*>(base)[index]));
  }
}

void store(int type, void* base, long long index, double value) {
  switch (type) {
    case kR32F: static_cast<float*>(base)[index] = static_cast<float>(value); break;
    case kR16F: static_cast<__half*>(base)[index] = __float2half_rn(static_cast<float>(value)); break;
    default: static_cast<__nv_bfloat16*>(base)[index] = __float2bfloat16_rn(static_cast<float>(value)); break;
  }
}

// C = alpha·op(A)·op(B) + beta·C, column-major; beta = 0 does not read C (as cuBLAS: C may hold NaN then).
void gemm(int transa, int transb, int m, int n, int k, double alpha, const void* a, int a_type, int lda,
          const void* b, int b_type, int ldb, double beta, void* c, int c_type, int ldc) {
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < m; ++i) {
      double sum[4] = {0, 0, 0, 0};
      for (int p = 0; p < k; ++p) {
        const long long ai = transa == 0 ? i + static_cast<long long>(p) * lda : p + static_cast<long long>(i) * lda;
        const long long bi = transb == 0 ? p + static_cast<long long>(j) * ldb : j + static_cast<long long>(p) * ldb;
        sum[p & 3] += load(a_type, a, ai) * load(b_type, b, bi);
      }
      const long long ci = i + static_cast<long long>(j) * ldc;
      const double product = alpha * ((sum[0] + sum[1]) + (sum[2] + sum[3]));
      store(c_type, c, ci, beta == 0 ? product : product + beta * load(c_type, c, ci));
    }
  }
}

// The argument checks cuBLAS makes (CUBLAS_STATUS_INVALID_VALUE), so that a wrong leading dimension fails here too.
Status check(int transa, int transb, int m, int n, int k, int lda, int ldb, int ldc) {
  if (transa < 0 || transa > 2 || transb < 0 || transb > 2 || m < 0 || n < 0 || k < 0) return kInvalidValue;
  const int a_rows = transa == 0 ? m : k, b_rows = transb == 0 ? k : n;
  if (lda < (a_rows > 1 ? a_rows : 1) || ldb < (b_rows > 1 ? b_rows : 1) || ldc < (m > 1 ? m : 1)) {
    std::fprintf(stderr, "cublas emulation: leading dimension too small (lda %d, ldb %d, ldc %d for m %d n %d k %d)\n",
                 lda, ldb, ldc, m, n, k);
    return kInvalidValue;
  }
  return kSuccess;
}

// alpha and beta are float for the fp32 compute types and half for CUBLAS_COMPUTE_16F.
bool scalars(int compute, const void* alpha, const void* beta, double& a, double& b) {
  if (alpha == nullptr || beta == nullptr) return false;
  switch (compute) {
    case kCompute16F:
      a = __half2float(*static_cast<const __half*>(alpha));
      b = __half2float(*static_cast<const __half*>(beta));
      return true;
    case kCompute32F: case kCompute32FPedantic: case kCompute32FFast16F: case kCompute32FFast16BF:
    case kCompute32FFastTf32:
      a = *static_cast<const float*>(alpha);
      b = *static_cast<const float*>(beta);
      return true;
    default:
      std::fprintf(stderr, "cublas emulation: compute type %d is not emulated\n", compute);
      return false;
  }
}

}  // namespace

#define API extern "C" __attribute__((visibility("default")))

API Status cublasCreate_v2(void** handle) {
  if (handle == nullptr) return kInvalidValue;
  *handle = new Handle;
  return kSuccess;
}

API Status cublasDestroy_v2(void* handle) {
  if (handle == nullptr) return kNotInitialized;
  delete static_cast<Handle*>(handle);
  return kSuccess;
}

API Status cublasSetStream_v2(void* handle, void* stream) {
  if (handle == nullptr) return kNotInitialized;
  static_cast<Handle*>(handle)->stream = stream;
  return kSuccess;
}

API Status cublasSetMathMode(void* handle, int mode) {
  if (handle == nullptr) return kNotInitialized;
  static_cast<Handle*>(handle)->math_mode = mode;
  return kSuccess;
}

API Status cublasSgemm_v2(void* handle, int transa, int transb, int m, int n, int k, const float* alpha,
                          const float* a, int lda, const float* b, int ldb, const float* beta, float* c, int ldc) {
  if (handle == nullptr) return kNotInitialized;
  if (Status s = check(transa, transb, m, n, k, lda, ldb, ldc)) return s;
  if (alpha == nullptr || beta == nullptr) return kInvalidValue;
  gemm(transa, transb, m, n, k, *alpha, a, kR32F, lda, b, kR32F, ldb, *beta, c, kR32F, ldc);
  return kSuccess;
}

API Status cublasGemmEx(void* handle, int transa, int transb, int m, int n, int k, const void* alpha, const void* a,
                        int a_type, int lda, const void* b, int b_type, int ldb, const void* beta, void* c, int c_type,
                        int ldc, int compute, int) {
  if (handle == nullptr) return kNotInitialized;
  if (Status s = check(transa, transb, m, n, k, lda, ldb, ldc)) return s;
  if (!known_type(a_type) || !known_type(b_type) || !known_type(c_type) || a_type != b_type) return kNotSupported;
  double al = 0, be = 0;
  if (!scalars(compute, alpha, beta, al, be)) return kInvalidValue;
  gemm(transa, transb, m, n, k, al, a, a_type, lda, b, b_type, ldb, be, c, c_type, ldc);
  return kSuccess;
}

API Status cublasGemmStridedBatchedEx(void* handle, int transa, int transb, int m, int n, int k, const void* alpha,
                                      const void* a, int a_type, int lda, long long stride_a, const void* b, int b_type,
                                      int ldb, long long stride_b, const void* beta, void* c, int c_type, int ldc,
                                      long long stride_c, int batch_count, int compute, int) {
  if (handle == nullptr) return kNotInitialized;
  if (Status s = check(transa, transb, m, n, k, lda, ldb, ldc)) return s;
  if (batch_count < 0) return kInvalidValue;
  if (!known_type(a_type) || !known_type(b_type) || !known_type(c_type) || a_type != b_type) return kNotSupported;
  double al = 0, be = 0;
  if (!scalars(compute, alpha, beta, al, be)) return kInvalidValue;
  const int a_size = a_type == kR32F ? 4 : 2, c_size = c_type == kR32F ? 4 : 2;
  for (int batch = 0; batch < batch_count; ++batch) {
    gemm(transa, transb, m, n, k, al, static_cast<const char*>(a) + batch * stride_a * a_size, a_type, lda,
         static_cast<const char*>(b) + batch * stride_b * a_size, b_type, ldb, be,
         static_cast<char*>(c) + batch * stride_c * c_size, c_type, ldc);
  }
  return kSuccess;
}
