// The cuBLAS calls Managed/Attention.Native binds, for the emulated device of device/cuda_driver.cpp: a shared
// library named like cuBLAS whose GEMMs run on the host (device memory there is host memory). Column-major as cuBLAS,
// host pointer mode, fp32/fp16/bf16 operands accumulated in double — it checks the host code's operand order,
// transposes, leading dimensions, strides and types, not cuBLAS's speed or rounding. Each GEMM is queued on the
// handle's stream (host_work.h) and runs when the host synchronises with it, in order with the kernels around it; one
// whose operands reach outside their allocations faults there as a kernel would (CUDA_ERROR_ILLEGAL_ADDRESS). Alpha
// and beta are read when the call is made, as cuBLAS's host pointer mode does. A test double: it loads only when a
// test run puts its folder first on LD_LIBRARY_PATH (it links to the emulated libcuda.so.1 beside it).

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <cstdio>
#include <memory>

#include "emulation/device/host_work.h"

namespace {

using Status = int;
constexpr Status kSuccess = 0, kNotInitialized = 1, kInvalidValue = 7, kExecutionFailed = 13, kNotSupported = 15;
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

// One queued GEMM (a batch of them: strides in elements), its operands and scalars captured at the call.
struct GemmWork {
  const char* call;
  int transa, transb, m, n, k;
  double alpha, beta;
  const void* a;
  int a_type, lda;
  long long stride_a;
  const void* b;
  int b_type, ldb;
  long long stride_b;
  void* c;
  int c_type, ldc;
  long long stride_c;
  int batch_count;
};

int element_bytes(int type) { return type == kR32F ? 4 : 2; }

// The bytes an operand spans: `columns` columns of `ld` elements, the last one `rows` long.
size_t extent(int rows, int columns, int ld, int type) {
  if (rows == 0 || columns == 0) return 0;
  return (static_cast<size_t>(columns - 1) * ld + rows) * element_bytes(type);
}

// Runs a queued GEMM (host_work.h's `run`): each operand of each batch entry must lie in device memory.
int run_gemm(void* state, char* report, size_t report_bytes) {
  const GemmWork& g = *static_cast<const GemmWork*>(state);
  const int a_rows = g.transa == 0 ? g.m : g.k, a_columns = g.transa == 0 ? g.k : g.m;
  const int b_rows = g.transb == 0 ? g.k : g.n, b_columns = g.transb == 0 ? g.n : g.k;
  for (int batch = 0; batch < g.batch_count; ++batch) {
    const char* a = static_cast<const char*>(g.a) + batch * g.stride_a * element_bytes(g.a_type);
    const char* b = static_cast<const char*>(g.b) + batch * g.stride_b * element_bytes(g.b_type);
    char* c = static_cast<char*>(g.c) + batch * g.stride_c * element_bytes(g.c_type);
    struct {
      const char* name;
      const void* base;
      size_t bytes;
    } operands[] = {{"A", a, g.k == 0 ? 0 : extent(a_rows, a_columns, g.lda, g.a_type)},
                    {"B", b, g.k == 0 ? 0 : extent(b_rows, b_columns, g.ldb, g.b_type)},
                    {"C", c, extent(g.m, g.n, g.ldc, g.c_type)}};
    for (const auto& operand : operands) {
      if (operand.bytes > 0 && !attention_emulation_device_range(operand.base, operand.bytes)) {
        std::snprintf(report, report_bytes,
                      "%s: operand %s of batch entry %d, %zu bytes at %p, is not inside one device allocation",
                      g.call, operand.name, batch, operand.bytes, operand.base);
        return 1;
      }
    }
    gemm(g.transa, g.transb, g.m, g.n, g.k, g.alpha, a, g.a_type, g.lda, b, g.b_type, g.ldb, g.beta, c, g.c_type, g.ldc);
  }
  return 0;
}

// Queues a GEMM on the handle's stream: CUBLAS_STATUS_SUCCESS, or EXECUTION_FAILED where the driver refuses.
Status enqueue(void* handle, const GemmWork& work) {
  auto owned = std::make_unique<GemmWork>(work);
  const int result = attention_emulation_enqueue(static_cast<Handle*>(handle)->stream, &run_gemm,
                                                 [](void* state) { delete static_cast<GemmWork*>(state); },
                                                 owned.release());
  return result == 0 ? kSuccess : kExecutionFailed;
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
  return enqueue(handle, GemmWork{"cublasSgemm_v2", transa, transb, m, n, k, *alpha, *beta, a, kR32F, lda, 0, b, kR32F,
                                  ldb, 0, c, kR32F, ldc, 0, 1});
}

API Status cublasGemmEx(void* handle, int transa, int transb, int m, int n, int k, const void* alpha, const void* a,
                        int a_type, int lda, const void* b, int b_type, int ldb, const void* beta, void* c, int c_type,
                        int ldc, int compute, int) {
  if (handle == nullptr) return kNotInitialized;
  if (Status s = check(transa, transb, m, n, k, lda, ldb, ldc)) return s;
  if (!known_type(a_type) || !known_type(b_type) || !known_type(c_type) || a_type != b_type) return kNotSupported;
  double al = 0, be = 0;
  if (!scalars(compute, alpha, beta, al, be)) return kInvalidValue;
  return enqueue(handle, GemmWork{"cublasGemmEx", transa, transb, m, n, k, al, be, a, a_type, lda, 0, b, b_type, ldb, 0,
                                  c, c_type, ldc, 0, 1});
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
  return enqueue(handle, GemmWork{"cublasGemmStridedBatchedEx", transa, transb, m, n, k, al, be, a, a_type, lda,
                                  stride_a, b, b_type, ldb, stride_b, c, c_type, ldc, stride_c, batch_count});
}
