// An emulated CUDA device for the test suite: the subset of the CUDA driver API that Managed/Attention.Native binds,
// built as a shared library named libcuda.so.1 that runs every kernel's own .cu source on the CPU through
// cuda_fiber_runtime.hpp. With it first on LD_LIBRARY_PATH the GPU test classes run end to end on a machine without a
// GPU: the C# parameter structs (each kernel's one parameter is read back as the struct the kernel declares, its size
// held to the PTX's), grids and shared-memory sizes (checked against the device's limits and the opt-in the host set,
// as the driver does), staging, workspaces, streams and cuBLAS calls (device/cublas.cpp) — everything but the GPU's
// speed.
//
// It fails where a GPU would, as early and as loudly as it can:
//   - the JIT reads every PTX statement (device/ptx_module.hpp) and ptxas's verdict where ptxas is installed; each
//     function's registers and shared memory come from ptxas of the embedded PTX (device/ptxas_resources.hpp), or
//     from the cubin an sm_90 cubin records (device/cubin_module.hpp; a cubin for another SM is refused);
//   - kernels fault, naming kernel, block, thread and address, on misaligned accesses (memory_checks.hpp), on
//     accesses outside the allocations made here — host pointers, freed memory, past the end — (device/
//     device_memory.hpp), on deadlocks and bad masks; a fault is the sticky CUDA error a GPU gives;
//   - work runs per stream when the host synchronises with it (device/work_queue.hpp), so ordering bugs show;
//   - blocks of a grid are interleaved, last first (cuda_fiber_runtime.hpp);
//   - device math carries its documented error (device_math_emulation.hpp).
//
// It is a test double, never a fallback: the library only loads when a test run puts its folder first on
// LD_LIBRARY_PATH, and the device it reports is named as an emulation.

// Every system header first: device_math_emulation.hpp (through the runtime) routes expf & co. to the device's math
// with macros.
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "emulation/cuda_fiber_runtime.hpp"

#define ATTENTION_EMULATION 1
#undef __launch_bounds__
#define __launch_bounds__(...)
#undef __align__
#define __align__(n) __attribute__((aligned(n)))

// Each kernel family's `extern __shared__` array; a launch points the runtime at the launched kernel's.
CUDA_EMULATION_DYNAMIC_SHARED_ARRAY(attention, float, shared)
#ifndef EMULATION_DEVICE_SIMT_ONLY
CUDA_EMULATION_DYNAMIC_SHARED_ARRAY(attention::splitkv, float4, splitkv_shared)
CUDA_EMULATION_DYNAMIC_SHARED_ARRAY(attention::mma, unsigned char, attention_mma_shared)
CUDA_EMULATION_DYNAMIC_SHARED_ARRAY(attention::hopper, unsigned char, attention_hopper_shared)
#endif
// additive_attention_f32 declares `extern __shared__ float shared[]` inside an extern "C" function: C linkage.
extern "C" {
alignas(16) thread_local float shared[emulation::kMaxDynamicShared / sizeof(float)];
}

#include "attention_simt.cu"
// The device's self-test (device_selftest.cpp) launches attention_simt's kernels and its own only: it leaves the other
// families out, whose templates would double its build time.
#ifndef EMULATION_DEVICE_SIMT_ONLY
#include "attention_splitkv.cu"
#include "attention_mma.cu"
#include "attention_mma_tf32.cu"
#include "additive_attention.cu"
#include "attention_backward.cu"
#include "attention_backward_mma.cu"
#include "attention_hopper.cu"
#include "kv_cache.cu"
#endif

// Test-only kernels (the device's self-test defines them before including this file).
#ifdef EMULATION_DEVICE_EXTRA_KERNELS_HEADER
#include EMULATION_DEVICE_EXTRA_KERNELS_HEADER
#endif

#include "emulation/device/device_memory.hpp"
#include "emulation/device/host_work.h"
#include "emulation/device/kernel_params.hpp"
#include "emulation/device/ptx_module.hpp"
#include "emulation/device/ptxas_resources.hpp"
#include "emulation/device/cubin_module.hpp"
#include "emulation/device/work_queue.hpp"
#include "emulation/tensor_map.hpp"

namespace {

using CUresult = int;
using CUdeviceptr = unsigned long long;

constexpr CUresult kSuccess = 0, kInvalidValue = 1, kOutOfMemory = 2, kNotInitialized = 3, kInvalidDevice = 101,
                   kInvalidImage = 200, kInvalidContext = 201, kNoBinaryForGpu = 209, kInvalidPtx = 218,
                   kInvalidHandle = 400,
                   kNotFound = 500, kNotReady = 600, kIllegalAddress = 700, kLaunchOutOfResources = 701,
                   kMisalignedAddress = 716, kLaunchFailed = 719, kNotSupported = 801, kUnknown = 999;

// The device it stands for: an H200's limits, so that the host's tile and split choices are the ones a GPU gets.
constexpr int kMultiprocessors = 132;
constexpr int kSharedPerBlock = 48 * 1024;
constexpr int kSharedPerBlockOptIn = 232448;
constexpr int kMaxGridX = 2147483647, kMaxGridYZ = 65535, kMaxThreadsPerBlock = 1024;
constexpr size_t kTotalMemory = 16ull << 30;
constexpr int kResidentBlocks = 4;  // blocks of a grid interleaved at once
constexpr const char* kDeviceName = "Attention.Native emulated sm_90 device (kernels on CPU fibers, no GPU)";

void fail(const char* format, ...) {
  va_list args;
  va_start(args, format);
  std::fprintf(stderr, "cuda emulation: ");
  std::vfprintf(stderr, format, args);
  std::fprintf(stderr, "\n");
  va_end(args);
}

// ---- Kernels --------------------------------------------------------------------------------------------------------

// Calls an entry point with its parameters read from the launch's void** array, each as the type the kernel declares
// (for every entry point here: one, its parameter struct).
template <typename... A, size_t... I>
void call_with(void (*kernel)(A...), void** params, std::index_sequence<I...>) {
  kernel(*static_cast<std::remove_cv_t<std::remove_reference_t<A>>*>(params[I])...);
}

template <typename... A>
std::vector<device::params::Parameter> parameters_of(void (*)(A...)) {
  return {device::params::Parameter{sizeof(std::remove_cvref_t<A>),
                                    device::params::pointer_fields<std::remove_cvref_t<A>>()}...};
}

struct Kernel {
  const char* name;
  std::vector<device::params::Parameter> parameters;
  emulation::DynamicShared (*shared)();  // the calling thread's copy of the kernel's dynamic shared array
  void (*run)(void** params);
};

template <typename... A>
constexpr size_t arity(void (*)(A...)) { return sizeof...(A); }

template <auto Entry>
void run_entry(void** params) {
  call_with(Entry, params, std::make_index_sequence<arity(Entry)>{});
}

template <typename T, size_t N>
emulation::DynamicShared shared_of(T (&array)[N]) { return {reinterpret_cast<unsigned char*>(array), sizeof array}; }

#define KERNEL(name, array) {#name, parameters_of(&name), [] { return shared_of(array); }, &run_entry<&name>}
#define SIMT(name) KERNEL(name, attention::shared)
#define SPLITKV(name) KERNEL(name, attention::splitkv::splitkv_shared)
#define MMA(name) KERNEL(name, attention::mma::attention_mma_shared)
#define HOPPER(name) KERNEL(name, attention::hopper::attention_hopper_shared)

#ifndef EMULATION_DEVICE_EXTRA_KERNELS
#define EMULATION_DEVICE_EXTRA_KERNELS
#endif

const Kernel kKernels[] = {
    SIMT(attention_simt_f32), SIMT(attention_simt_f16), SIMT(attention_simt_bf16),
#ifndef EMULATION_DEVICE_SIMT_ONLY
    SPLITKV(attention_splitkv_partial_f32), SPLITKV(attention_splitkv_partial_f16),
    SPLITKV(attention_splitkv_partial_bf16), SPLITKV(attention_splitkv_merge_f32),
    SPLITKV(attention_splitkv_merge_f16), SPLITKV(attention_splitkv_merge_bf16),
    SPLITKV(attention_splitkv_partial_i8_f16), SPLITKV(attention_splitkv_partial_i8_bf16),
    SPLITKV(attention_splitkv_partial_e4m3_f16), SPLITKV(attention_splitkv_partial_e4m3_bf16),
    MMA(attention_mma_d32_f16), MMA(attention_mma_d32_bf16), MMA(attention_mma_d64_f16),
    MMA(attention_mma_d64_bf16), MMA(attention_mma_d96_f16), MMA(attention_mma_d96_bf16),
    MMA(attention_mma_d128_f16), MMA(attention_mma_d128_bf16), MMA(attention_mma_d160_f16),
    MMA(attention_mma_d160_bf16), MMA(attention_mma_d192_f16), MMA(attention_mma_d192_bf16),
    MMA(attention_mma_d256_f16), MMA(attention_mma_d256_bf16),
    MMA(attention_mma_d32_f32), MMA(attention_mma_d64_f32), MMA(attention_mma_d96_f32),
    MMA(attention_mma_d128_f32), MMA(attention_mma_d160_f32), MMA(attention_mma_d192_f32),
    MMA(attention_mma_d256_f32),
    KERNEL(additive_attention_f32, ::shared),
    SIMT(attention_backward_prepare_f32), SIMT(attention_backward_prepare_f16),
    SIMT(attention_backward_prepare_bf16), SIMT(attention_backward_simt_f32), SIMT(attention_backward_simt_f16),
    SIMT(attention_backward_simt_bf16), SIMT(attention_backward_dq_f32), SIMT(attention_backward_dq_f16),
    SIMT(attention_backward_dq_bf16), SIMT(attention_backward_mma_d64_f16), SIMT(attention_backward_mma_d64_bf16),
    SIMT(attention_backward_mma_d128_f16), SIMT(attention_backward_mma_d128_bf16),
    HOPPER(attention_hopper_d64_f16), HOPPER(attention_hopper_d64_bf16), HOPPER(attention_hopper_d128_f16),
    HOPPER(attention_hopper_d128_bf16), HOPPER(attention_hopper_d256_f16), HOPPER(attention_hopper_d256_bf16),
    SIMT(kv_cache_append_f32), SIMT(kv_cache_append_f16), SIMT(kv_cache_append_bf16),
    SIMT(kv_cache_quantize_int8_f32), SIMT(kv_cache_quantize_int8_f16), SIMT(kv_cache_quantize_int8_bf16),
    SIMT(kv_cache_dequantize_int8_f32), SIMT(kv_cache_dequantize_int8_f16), SIMT(kv_cache_dequantize_int8_bf16),
    SIMT(kv_cache_quantize_e4m3_f32), SIMT(kv_cache_quantize_e4m3_f16), SIMT(kv_cache_quantize_e4m3_bf16),
    SIMT(kv_cache_dequantize_e4m3_f32), SIMT(kv_cache_dequantize_e4m3_f16), SIMT(kv_cache_dequantize_e4m3_bf16),
#endif
    EMULATION_DEVICE_EXTRA_KERNELS
};

const Kernel* find_kernel(const std::string& name) {
  for (const Kernel& k : kKernels) {
    if (name == k.name) return &k;
  }
  return nullptr;
}

// An entry whose body only returns (the tests' hand-written modules) runs as an empty kernel.
void empty_kernel(void**) {}
const Kernel kEmptyKernel = {"(an entry that only returns)", {}, [] { return emulation::DynamicShared{}; },
                             &empty_kernel};

// ---- Modules --------------------------------------------------------------------------------------------------------

struct Function {
  std::string name;
  const Kernel* kernel = nullptr;
  std::string mismatch;  // why the compiled kernel does not match the PTX entry, if it does not
  int ptx_version = 0;
  int max_threads = kMaxThreadsPerBlock;  // .maxntid, and what its registers allow
  int static_shared = 0;
  int registers = 0;
  int local = 0;
  int max_dynamic_shared = kSharedPerBlock;
};

struct Module {
  std::map<std::string, Function> functions;
};

// The JIT: the PTX read statement by statement, then ptxas's figures (and verdict) for each entry.
// Each entry as a Function: the compiled kernel of its name (its parameters held to the entry's), its figures.
void add_functions(const device::ptx::Module& ptx, const std::map<std::string, device::FunctionResources>& resources,
                   Module& module) {
  for (const device::ptx::Entry& entry : ptx.entries) {
    Function f;
    f.name = entry.name;
    f.ptx_version = ptx.version;
    f.kernel = find_kernel(f.name);
    if (f.kernel == nullptr && entry.only_returns && entry.param_bytes.empty()) f.kernel = &kEmptyKernel;
    if (f.kernel != nullptr && f.kernel != &kEmptyKernel) {
      std::vector<size_t> compiled;
      for (const auto& p : f.kernel->parameters) compiled.push_back(p.bytes);
      if (compiled != entry.param_bytes) {
        f.mismatch = "the PTX entry takes " + std::to_string(entry.param_bytes.size()) +
                     " parameter(s) of other sizes than the compiled kernel (PTX and source out of step: ./build.sh ptx)";
      }
    }
    f.static_shared = entry.static_shared;
    if (auto it = resources.find(f.name); it != resources.end()) {
      f.registers = it->second.registers;
      f.local = it->second.local;
      f.static_shared = it->second.shared;
    }
    f.max_threads = std::min(entry.max_threads, device::register_limited_threads(f.registers));
    module.functions[f.name] = f;
  }
}

bool load_module(const char* text, Module& module, std::string& error_log, std::string& info_log) {
  device::ptx::Module ptx;
  if (!device::ptx::read_module(text, ptx, error_log)) return false;
  const device::PtxasReport ptxas = device::ptxas_report(text);
  if (ptxas.rejected) {
    error_log = ptxas.log;
    return false;
  }
  info_log = ptxas.provenance + "\n" + ptxas.log;
  add_functions(ptx, ptxas.functions, module);
  return true;
}

// A cubin (device/cubin_module.hpp): its entries with the figures ptxas recorded in it.
CUresult load_cubin(const void* image, Module& module, std::string& error_log, std::string& info_log) {
  device::ptx::Module entries;
  std::map<std::string, device::FunctionResources> resources;
  bool wrong_arch = false;
  if (!device::cubin::read(image, entries, resources, error_log, wrong_arch)) {
    return wrong_arch ? kNoBinaryForGpu : kInvalidImage;
  }
  info_log = "emulated device: a cubin; registers and memory are those ptxas recorded in it";
  add_functions(entries, resources, module);
  return kSuccess;
}

// ---- Driver state ---------------------------------------------------------------------------------------------------

std::recursive_mutex driver_mutex;  // the driver API is thread-safe; the emulation simply serialises it
bool initialised = false;
int context_tag = 0;  // the primary context is &context_tag
int context_retains = 0;
thread_local void* current_context = nullptr;
device::DeviceMemory device_memory;
size_t allocated = 0;
device::WorkQueue work;
std::map<void*, std::unique_ptr<device::Stream>> streams;
std::map<void*, std::unique_ptr<device::Event>> events;
std::set<Module*> modules;
CUresult sticky_error = kSuccess;  // a fault in queued work: every later call returns it
std::string last_fault;

CUresult check_ready() {
  if (!initialised) return kNotInitialized;
  if (current_context == nullptr) return kInvalidContext;
  return sticky_error;
}

// A stream handle (0 or CU_STREAM_LEGACY: the legacy default stream; CU_STREAM_PER_THREAD counts as it too).
device::Stream* stream_of(void* handle) {
  if (handle == nullptr || handle == reinterpret_cast<void*>(1) || handle == reinterpret_cast<void*>(2)) {
    return work.legacy();
  }
  auto it = streams.find(handle);
  return it == streams.end() || it->second->destroyed ? nullptr : it->second.get();
}

// Work's result: a fault becomes the context's sticky error, with its report on stderr.
CUresult settle(CUresult result, const std::string& report) {
  if (result != kSuccess && sticky_error == kSuccess) {
    sticky_error = result;
    last_fault = report;
    fail("%s", report.c_str());
  }
  return result;
}

CUresult synchronize_stream(device::Stream* stream) {
  std::string report;
  return settle(work.synchronize_stream(stream, report), report);
}

CUresult synchronize_all() {
  std::string report;
  return settle(work.synchronize_all(report), report);
}

bool valid_range(CUdeviceptr address, size_t bytes) {
  return bytes == 0 || device_memory.live_range(address, bytes) != nullptr;
}

// Drops everything the context holds (its last release, as cuDevicePrimaryCtxRelease destroys it).
void reset_context() {
  work.clear();
  std::vector<uintptr_t> starts;
  for (const auto& [start, a] : device_memory.live()) starts.push_back(start);
  for (uintptr_t start : starts) device_memory.free(start);
  allocated = 0;
  sticky_error = kSuccess;
}

// ---- Running a kernel -----------------------------------------------------------------------------------------------

struct Launch {
  const Function* function;
  dim3 grid, block;
  unsigned shared_bytes;
  device::params::Arguments arguments;
};

// Host pointers among the parameters become stand-ins that fault on access (device_memory.hpp).
void trap_host_pointers(Launch& launch) {
  const auto& parameters = launch.function->kernel->parameters;
  for (size_t i = 0; i < parameters.size(); ++i) {
    for (size_t f = 0; f < parameters[i].pointers.count; ++f) {
      unsigned char* field = launch.arguments.bytes(i) + parameters[i].pointers.offsets[f];
      uintptr_t pointer;
      std::memcpy(&pointer, field, sizeof pointer);
      if (pointer == 0 || device_memory.in_arena(pointer) || device_memory.in_trap_window(pointer)) continue;
      const uintptr_t stand_in = device_memory.trap_for(pointer);
      std::memcpy(field, &stand_in, sizeof stand_in);
    }
  }
}

CUresult run_launch(Launch& launch, std::string& report) {
  const Function& f = *launch.function;
  if (f.kernel == &kEmptyKernel) return kSuccess;
  trap_host_pointers(launch);
  emulation::dynamic_shared_source = f.kernel->shared;
  emulation::LaunchOptions options;
  options.kernel = f.name.c_str();
  options.resident_blocks = kResidentBlocks;
  const emulation::LaunchResult result = emulation::launch(
      launch.grid, launch.block, launch.shared_bytes, [&] { f.kernel->run(launch.arguments.params()); }, options);
  const std::string canaries = device_memory.overwritten_canaries();
  if (result.faulted) {
    report = result.report;
    switch (result.fault) {
      case emulation::FaultKind::kIllegalAddress: return kIllegalAddress;
      case emulation::FaultKind::kMisalignedAddress: return kMisalignedAddress;
      default: return kLaunchFailed;
    }
  }
  if (result.shared_overrun) {
    report = f.name + ": wrote past the " + std::to_string(launch.shared_bytes) +
             " bytes of dynamic shared memory it was launched with";
    return kIllegalAddress;
  }
  if (!canaries.empty()) {
    report = f.name + ": " + canaries + " (within the allocation's last 256-byte granule or first page, which the "
                                        "guard pages do not cover)";
    return kIllegalAddress;
  }
  return kSuccess;
}

[[maybe_unused]] const bool configured = [] {
  emulation::exit_on_fault = false;
  emulation::describe_address = [](uintptr_t address) { return device_memory.describe(address); };
  return true;
}();

}  // namespace

#define API extern "C" __attribute__((visibility("default")))

API CUresult cuInit(unsigned flags) {
  std::lock_guard lock(driver_mutex);
  if (flags != 0) return kInvalidValue;
  if (!device_memory.reserve()) {
    fail("cannot reserve address space for device memory");
    return kOutOfMemory;
  }
  device::install_fault_handler();
  initialised = true;
  return kSuccess;
}

API CUresult cuDriverGetVersion(int* version) {
  if (version == nullptr) return kInvalidValue;
  *version = 12080;
  return kSuccess;
}

API CUresult cuDeviceGetCount(int* count) {
  if (count == nullptr) return kInvalidValue;
  if (!initialised) return kNotInitialized;
  *count = 1;
  return kSuccess;
}

API CUresult cuDeviceGet(int* device, int ordinal) {
  if (device == nullptr) return kInvalidValue;
  if (!initialised) return kNotInitialized;
  if (ordinal != 0) return kInvalidDevice;
  *device = 0;
  return kSuccess;
}

API CUresult cuDeviceGetName(char* name, int length, int device) {
  if (name == nullptr || length <= 0) return kInvalidValue;
  if (device != 0) return kInvalidDevice;
  std::snprintf(name, static_cast<size_t>(length), "%s", kDeviceName);
  return kSuccess;
}

API CUresult cuDeviceGetAttribute(int* value, int attribute, int device) {
  if (value == nullptr) return kInvalidValue;
  if (device != 0) return kInvalidDevice;
  switch (attribute) {
    case 1: *value = kMaxThreadsPerBlock; return kSuccess;
    case 5: *value = kMaxGridX; return kSuccess;
    case 6: case 7: *value = kMaxGridYZ; return kSuccess;
    case 8: *value = kSharedPerBlock; return kSuccess;
    case 10: *value = 32; return kSuccess;  // warp size
    case 16: *value = kMultiprocessors; return kSuccess;
    case 75: *value = 9; return kSuccess;
    case 76: *value = 0; return kSuccess;
    case 97: *value = kSharedPerBlockOptIn; return kSuccess;
    default:
      fail("cuDeviceGetAttribute(%d) is not emulated", attribute);
      return kInvalidValue;
  }
}

API CUresult cuDeviceTotalMem_v2(size_t* bytes, int device) {
  if (bytes == nullptr) return kInvalidValue;
  if (device != 0) return kInvalidDevice;
  *bytes = kTotalMemory;
  return kSuccess;
}

API CUresult cuDevicePrimaryCtxRetain(void** context, int device) {
  std::lock_guard lock(driver_mutex);
  if (context == nullptr) return kInvalidValue;
  if (!initialised) return kNotInitialized;
  if (device != 0) return kInvalidDevice;
  ++context_retains;
  *context = &context_tag;
  return kSuccess;
}

API CUresult cuDevicePrimaryCtxRelease_v2(int device) {
  std::lock_guard lock(driver_mutex);
  if (device != 0) return kInvalidDevice;
  if (context_retains == 0) return kInvalidContext;
  if (--context_retains == 0) reset_context();
  return kSuccess;
}

API CUresult cuCtxSetCurrent(void* context) {
  if (context != nullptr && context != &context_tag) return kInvalidContext;
  current_context = context;
  return kSuccess;
}

API CUresult cuCtxGetCurrent(void** context) {
  if (context == nullptr) return kInvalidValue;
  *context = current_context;
  return kSuccess;
}

API CUresult cuCtxSynchronize() {
  std::lock_guard lock(driver_mutex);
  if (CUresult r = check_ready()) return r;
  return synchronize_all();
}

API CUresult cuGetErrorName(CUresult error, const char** name) {
  if (name == nullptr) return kInvalidValue;
  switch (error) {
    case kSuccess: *name = "CUDA_SUCCESS"; return kSuccess;
    case kInvalidValue: *name = "CUDA_ERROR_INVALID_VALUE"; return kSuccess;
    case kOutOfMemory: *name = "CUDA_ERROR_OUT_OF_MEMORY"; return kSuccess;
    case kNotInitialized: *name = "CUDA_ERROR_NOT_INITIALIZED"; return kSuccess;
    case kInvalidDevice: *name = "CUDA_ERROR_INVALID_DEVICE"; return kSuccess;
    case kInvalidImage: *name = "CUDA_ERROR_INVALID_IMAGE"; return kSuccess;
    case kInvalidContext: *name = "CUDA_ERROR_INVALID_CONTEXT"; return kSuccess;
    case kNoBinaryForGpu: *name = "CUDA_ERROR_NO_BINARY_FOR_GPU"; return kSuccess;
    case kInvalidPtx: *name = "CUDA_ERROR_INVALID_PTX"; return kSuccess;
    case kInvalidHandle: *name = "CUDA_ERROR_INVALID_HANDLE"; return kSuccess;
    case kNotFound: *name = "CUDA_ERROR_NOT_FOUND"; return kSuccess;
    case kNotReady: *name = "CUDA_ERROR_NOT_READY"; return kSuccess;
    case kIllegalAddress: *name = "CUDA_ERROR_ILLEGAL_ADDRESS"; return kSuccess;
    case kLaunchOutOfResources: *name = "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES"; return kSuccess;
    case kMisalignedAddress: *name = "CUDA_ERROR_MISALIGNED_ADDRESS"; return kSuccess;
    case kLaunchFailed: *name = "CUDA_ERROR_LAUNCH_FAILED"; return kSuccess;
    case kNotSupported: *name = "CUDA_ERROR_NOT_SUPPORTED"; return kSuccess;
    case kUnknown: *name = "CUDA_ERROR_UNKNOWN"; return kSuccess;
    default: *name = nullptr; return kInvalidValue;
  }
}

API CUresult cuGetErrorString(CUresult error, const char** description) {
  if (description == nullptr) return kInvalidValue;
  const char* name = nullptr;
  if (cuGetErrorName(error, &name) != kSuccess) {
    *description = nullptr;
    return kInvalidValue;
  }
  *description = name;
  return kSuccess;
}

// ---- Memory ---------------------------------------------------------------------------------------------------------

API CUresult cuMemAlloc_v2(CUdeviceptr* address, size_t bytes) {
  std::lock_guard lock(driver_mutex);
  if (address == nullptr || bytes == 0) return kInvalidValue;
  if (CUresult r = check_ready()) return r;
  if (allocated + bytes > kTotalMemory) return kOutOfMemory;
  const uintptr_t start = device_memory.allocate(bytes);
  if (start == 0) return kOutOfMemory;
  *address = start;
  allocated += bytes;
  return kSuccess;
}

API CUresult cuMemFree_v2(CUdeviceptr address) {
  std::lock_guard lock(driver_mutex);
  if (CUresult r = check_ready()) return r;
  // Freeing waits for the device, as the driver does: no queued work may still use the device_memory.
  if (CUresult r = synchronize_all()) return r;
  const device::Allocation* a = device_memory.live_range(address, 1);
  if (a == nullptr || a->start != address) return kInvalidValue;
  allocated -= a->bytes;
  device_memory.free(address);
  return kSuccess;
}

API CUresult cuMemGetInfo_v2(size_t* free, size_t* total) {
  std::lock_guard lock(driver_mutex);
  if (free == nullptr || total == nullptr) return kInvalidValue;
  if (CUresult r = check_ready()) return r;
  *total = kTotalMemory;
  *free = kTotalMemory - allocated;
  return kSuccess;
}

namespace {

CUresult enqueue_memset(CUdeviceptr address, unsigned char value, size_t count, void* stream_handle) {
  if (CUresult r = check_ready()) return r;
  device::Stream* stream = stream_of(stream_handle);
  if (stream == nullptr) return kInvalidHandle;
  if (!valid_range(address, count)) return kInvalidValue;
  work.enqueue(stream, "cuMemsetD8", [=](std::string&) {
    std::memset(reinterpret_cast<void*>(address), value, count);
    return kSuccess;
  });
  return kSuccess;
}

CUresult enqueue_copy(void* destination, const void* source, size_t bytes, void* stream_handle, const char* what) {
  device::Stream* stream = stream_of(stream_handle);
  if (stream == nullptr) return kInvalidHandle;
  work.enqueue(stream, what, [=](std::string&) {
    std::memmove(destination, source, bytes);
    return kSuccess;
  });
  return kSuccess;
}

// A synchronous copy: legacy-stream work the host waits for.
CUresult copy_now(void* destination, const void* source, size_t bytes) {
  if (CUresult r = synchronize_stream(work.legacy())) return r;
  std::memmove(destination, source, bytes);
  return kSuccess;
}

}  // namespace

API CUresult cuMemsetD8_v2(CUdeviceptr address, unsigned char value, size_t count) {
  std::lock_guard lock(driver_mutex);
  return enqueue_memset(address, value, count, nullptr);
}

API CUresult cuMemsetD8Async(CUdeviceptr address, unsigned char value, size_t count, void* stream) {
  std::lock_guard lock(driver_mutex);
  return enqueue_memset(address, value, count, stream);
}

API CUresult cuMemcpyHtoD_v2(CUdeviceptr destination, const void* source, size_t bytes) {
  std::lock_guard lock(driver_mutex);
  if (CUresult r = check_ready()) return r;
  if (!valid_range(destination, bytes) || (source == nullptr && bytes > 0)) return kInvalidValue;
  return copy_now(reinterpret_cast<void*>(destination), source, bytes);
}

API CUresult cuMemcpyDtoH_v2(void* destination, CUdeviceptr source, size_t bytes) {
  std::lock_guard lock(driver_mutex);
  if (CUresult r = check_ready()) return r;
  if (!valid_range(source, bytes) || (destination == nullptr && bytes > 0)) return kInvalidValue;
  return copy_now(destination, reinterpret_cast<const void*>(source), bytes);
}

API CUresult cuMemcpyDtoD_v2(CUdeviceptr destination, CUdeviceptr source, size_t bytes) {
  std::lock_guard lock(driver_mutex);
  if (CUresult r = check_ready()) return r;
  if (!valid_range(destination, bytes) || !valid_range(source, bytes)) return kInvalidValue;
  return enqueue_copy(reinterpret_cast<void*>(destination), reinterpret_cast<const void*>(source), bytes, nullptr,
                      "cuMemcpyDtoD_v2");
}

API CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr destination, CUdeviceptr source, size_t bytes, void* stream) {
  std::lock_guard lock(driver_mutex);
  if (CUresult r = check_ready()) return r;
  if (!valid_range(destination, bytes) || !valid_range(source, bytes)) return kInvalidValue;
  return enqueue_copy(reinterpret_cast<void*>(destination), reinterpret_cast<const void*>(source), bytes, stream,
                      "cuMemcpyDtoDAsync_v2");
}

API CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr destination, const void* source, size_t bytes, void* stream) {
  std::lock_guard lock(driver_mutex);
  if (CUresult r = check_ready()) return r;
  if (!valid_range(destination, bytes) || (source == nullptr && bytes > 0)) return kInvalidValue;
  return enqueue_copy(reinterpret_cast<void*>(destination), source, bytes, stream, "cuMemcpyHtoDAsync_v2");
}

API CUresult cuMemcpyDtoHAsync_v2(void* destination, CUdeviceptr source, size_t bytes, void* stream) {
  std::lock_guard lock(driver_mutex);
  if (CUresult r = check_ready()) return r;
  if (!valid_range(source, bytes) || (destination == nullptr && bytes > 0)) return kInvalidValue;
  return enqueue_copy(destination, reinterpret_cast<const void*>(source), bytes, stream, "cuMemcpyDtoHAsync_v2");
}

// ---- Streams and events ---------------------------------------------------------------------------------------------

API CUresult cuStreamCreate(void** stream, unsigned flags) {
  std::lock_guard lock(driver_mutex);
  if (stream == nullptr || flags > 1) return kInvalidValue;
  if (CUresult r = check_ready()) return r;
  auto created = std::make_unique<device::Stream>();
  created->blocking = (flags & 1) == 0;  // CU_STREAM_NON_BLOCKING
  *stream = created.get();
  streams[*stream] = std::move(created);
  return kSuccess;
}

// Its queued work still runs (at the next synchronisation that waits for it), as the driver's does after it returns.
API CUresult cuStreamDestroy_v2(void* stream) {
  std::lock_guard lock(driver_mutex);
  auto it = streams.find(stream);
  if (it == streams.end() || it->second->destroyed) return kInvalidHandle;
  it->second->destroyed = true;
  return kSuccess;
}

API CUresult cuStreamSynchronize(void* stream) {
  std::lock_guard lock(driver_mutex);
  if (CUresult r = check_ready()) return r;
  device::Stream* s = stream_of(stream);
  if (s == nullptr) return kInvalidHandle;
  return synchronize_stream(s);
}

API CUresult cuEventCreate(void** event, unsigned flags) {
  std::lock_guard lock(driver_mutex);
  if (event == nullptr || flags > 7) return kInvalidValue;
  if (CUresult r = check_ready()) return r;
  auto created = std::make_unique<device::Event>();
  created->timing = (flags & 2) == 0;  // CU_EVENT_DISABLE_TIMING
  *event = created.get();
  events[*event] = std::move(created);
  return kSuccess;
}

API CUresult cuEventDestroy_v2(void* event) {
  std::lock_guard lock(driver_mutex);
  return events.erase(event) == 0 ? kInvalidHandle : kSuccess;
}

API CUresult cuEventRecord(void* event, void* stream) {
  std::lock_guard lock(driver_mutex);
  if (CUresult r = check_ready()) return r;
  auto it = events.find(event);
  if (it == events.end()) return kInvalidHandle;
  device::Stream* s = stream_of(stream);
  if (s == nullptr) return kInvalidHandle;
  device::Event& e = *it->second;
  e.completed = false;
  auto issue = std::make_shared<unsigned long long>(0);
  e.recorded = *issue = work.enqueue(s, "cuEventRecord", [event, issue](std::string&) {
    // Completes the event if it still exists and this is its latest record.
    if (auto found = events.find(event); found != events.end() && found->second->recorded == *issue) {
      found->second->completed = true;
      found->second->time = std::chrono::steady_clock::now();
    }
    return kSuccess;
  });
  return kSuccess;
}

API CUresult cuEventSynchronize(void* event) {
  std::lock_guard lock(driver_mutex);
  if (CUresult r = check_ready()) return r;
  auto it = events.find(event);
  if (it == events.end()) return kInvalidHandle;
  if (it->second->recorded == 0 || it->second->completed) return kSuccess;
  std::string report;
  return settle(work.synchronize_issue(it->second->recorded, report), report);
}

API CUresult cuEventElapsedTime(float* milliseconds, void* start, void* end) {
  std::lock_guard lock(driver_mutex);
  if (milliseconds == nullptr) return kInvalidValue;
  if (CUresult r = check_ready()) return r;
  auto a = events.find(start), b = events.find(end);
  if (a == events.end() || b == events.end()) return kInvalidHandle;
  const device::Event &first = *a->second, &second = *b->second;
  if (!first.timing || !second.timing || first.recorded == 0 || second.recorded == 0) return kInvalidHandle;
  if (!first.completed || !second.completed) return kNotReady;  // neither waited for: the GPU may not be there yet
  *milliseconds = std::chrono::duration<float, std::milli>(second.time - first.time).count();
  return kSuccess;
}

// ---- Modules and launches -------------------------------------------------------------------------------------------

API CUresult cuModuleLoadDataEx(void** module, const void* image, unsigned option_count, int* options,
                                void** option_values) {
  std::lock_guard lock(driver_mutex);
  if (module == nullptr || image == nullptr || (option_count > 0 && (options == nullptr || option_values == nullptr))) {
    return kInvalidValue;
  }
  if (CUresult r = check_ready()) return r;
  // CU_JIT_INFO_LOG_BUFFER (3) and its size (4), CU_JIT_ERROR_LOG_BUFFER (5) and its size (6), CU_JIT_LOG_VERBOSE
  // (12): the sizes are in-out, each set to the bytes the driver wrote.
  char *info = nullptr, *error = nullptr;
  size_t info_size = 0, error_size = 0;
  bool verbose = false;
  for (unsigned i = 0; i < option_count; ++i) {
    switch (options[i]) {
      case 3: info = static_cast<char*>(option_values[i]); break;
      case 4: info_size = reinterpret_cast<uintptr_t>(option_values[i]); break;
      case 5: error = static_cast<char*>(option_values[i]); break;
      case 6: error_size = reinterpret_cast<uintptr_t>(option_values[i]); break;
      case 12: verbose = option_values[i] != nullptr; break;
      default: break;
    }
  }
  auto write_log = [&](char* buffer, size_t size, const std::string& text, int size_option) {
    size_t written = 0;
    if (buffer != nullptr && size > 0) {
      written = std::min(text.size(), size - 1);
      std::memcpy(buffer, text.data(), written);
      buffer[written] = '\0';
    }
    for (unsigned i = 0; i < option_count; ++i) {
      if (options[i] == size_option) option_values[i] = reinterpret_cast<void*>(static_cast<uintptr_t>(written));
    }
  };
  auto loaded = std::make_unique<Module>();
  std::string error_log, info_log;
  const CUresult result = device::cubin::is_elf(image)
                              ? load_cubin(image, *loaded, error_log, info_log)
                              : load_module(static_cast<const char*>(image), *loaded, error_log, info_log) ? kSuccess
                                                                                                          : kInvalidPtx;
  const bool ok = result == kSuccess;
  write_log(error, error_size, ok ? std::string() : error_log, 6);
  write_log(info, info_size, ok && verbose ? info_log : std::string(), 4);
  if (!ok) return result;
  *module = loaded.get();
  modules.insert(loaded.release());
  return kSuccess;
}

API CUresult cuModuleUnload(void* module) {
  std::lock_guard lock(driver_mutex);
  if (CUresult r = check_ready()) return r;
  if (modules.erase(static_cast<Module*>(module)) == 0) return kInvalidHandle;
  if (CUresult r = synchronize_all()) return r;  // its kernels may still be queued
  delete static_cast<Module*>(module);
  return kSuccess;
}

API CUresult cuModuleGetFunction(void** function, void* module, const char* name) {
  std::lock_guard lock(driver_mutex);
  if (function == nullptr || module == nullptr || name == nullptr) return kInvalidValue;
  if (!modules.count(static_cast<Module*>(module))) return kInvalidHandle;
  auto& functions = static_cast<Module*>(module)->functions;
  auto it = functions.find(name);
  if (it == functions.end()) return kNotFound;
  if (it->second.kernel == nullptr) {
    fail("%s is in the PTX but not compiled into the emulation (device/cuda_driver.cpp's kKernels)", name);
    return kNotSupported;
  }
  if (!it->second.mismatch.empty()) {
    fail("%s: %s", name, it->second.mismatch.c_str());
    return kNotSupported;
  }
  *function = &it->second;
  return kSuccess;
}

API CUresult cuFuncGetAttribute(int* value, int attribute, void* function) {
  std::lock_guard lock(driver_mutex);
  if (value == nullptr || function == nullptr) return kInvalidValue;
  const Function& f = *static_cast<Function*>(function);
  switch (attribute) {
    case 0: *value = f.max_threads; return kSuccess;
    case 1: *value = f.static_shared; return kSuccess;
    case 2: *value = 0; return kSuccess;  // user constant memory: none
    case 3: *value = f.local; return kSuccess;
    case 4: *value = f.registers; return kSuccess;
    case 5: *value = f.ptx_version; return kSuccess;
    case 6: *value = 90; return kSuccess;  // the binary's architecture, sm_90
    case 7: *value = 0; return kSuccess;
    case 8: *value = f.max_dynamic_shared; return kSuccess;
    case 9: *value = -1; return kSuccess;  // no preferred carveout
    default:
      fail("cuFuncGetAttribute(%d) is not emulated", attribute);
      return kInvalidValue;
  }
}

API CUresult cuFuncSetAttribute(void* function, int attribute, int value) {
  std::lock_guard lock(driver_mutex);
  if (function == nullptr) return kInvalidHandle;
  Function& f = *static_cast<Function*>(function);
  if (attribute != 8) {
    fail("cuFuncSetAttribute(%d) is not emulated", attribute);
    return kInvalidValue;
  }
  if (value < 0 || value + f.static_shared > kSharedPerBlockOptIn) return kInvalidValue;
  f.max_dynamic_shared = value;
  return kSuccess;
}

API CUresult cuLaunchKernel(void* function, unsigned grid_x, unsigned grid_y, unsigned grid_z, unsigned block_x,
                            unsigned block_y, unsigned block_z, unsigned shared_bytes, void* stream_handle,
                            void** params, void** extra) {
  std::lock_guard lock(driver_mutex);
  if (CUresult r = check_ready()) return r;
  if (function == nullptr) return kInvalidHandle;
  const Function& f = *static_cast<Function*>(function);
  device::Stream* stream = stream_of(stream_handle);
  if (stream == nullptr) return kInvalidHandle;
  const unsigned long long threads = static_cast<unsigned long long>(block_x) * block_y * block_z;
  if (extra != nullptr || (params == nullptr && !f.kernel->parameters.empty())) {
    fail("%s: launched without kernelParams (or with extra)", f.name.c_str());
    return kInvalidValue;
  }
  if (grid_x == 0 || grid_y == 0 || grid_z == 0 || threads == 0 || grid_x > static_cast<unsigned>(kMaxGridX) ||
      grid_y > kMaxGridYZ || grid_z > kMaxGridYZ || threads > kMaxThreadsPerBlock) {
    fail("%s: grid (%u, %u, %u) or block (%u, %u, %u) outside the device's limits", f.name.c_str(), grid_x, grid_y,
         grid_z, block_x, block_y, block_z);
    return kInvalidValue;
  }
  if (threads > static_cast<unsigned long long>(f.max_threads)) {
    fail("%s: %llu threads a block, more than its __launch_bounds__ and %d registers a thread allow (%d)",
         f.name.c_str(), threads, f.registers, f.max_threads);
    return kLaunchOutOfResources;
  }
  if (static_cast<int>(shared_bytes) > f.max_dynamic_shared) {
    fail("%s: %u bytes of dynamic shared memory, more than the %d allowed (cuFuncSetAttribute opts in beyond 48 KiB)",
         f.name.c_str(), shared_bytes, f.max_dynamic_shared);
    return kInvalidValue;
  }
  // The arguments are copied now, as the driver does: the caller may reuse them once the call returns.
  auto launch = std::make_shared<Launch>(Launch{&f, dim3(grid_x, grid_y, grid_z), dim3(block_x, block_y, block_z),
                                                shared_bytes, device::params::Arguments(f.kernel->parameters, params)});
  work.enqueue(stream, f.name, [launch](std::string& report) { return run_launch(*launch, report); });
  return kSuccess;
}

// ---- Tensor maps (TMA) ------------------------------------------------------------------------------------------------

// Validates the arguments as the driver API documents them (emulation/tensor_map.hpp) and that the tensor lies in one
// allocation made here, and stores the map for the emulated cp.async.bulk.tensor (emulation/hopper_emulation.hpp).
// The L2 promotion is a cache hint with nothing to emulate; it is range-checked only.
API CUresult cuTensorMapEncodeTiled(void* tensor_map, int data_type, unsigned rank, void* global_address,
                                    const uint64_t* global_dim, const uint64_t* global_strides,
                                    const uint32_t* box_dim, const uint32_t* element_strides, int interleave,
                                    int swizzle, int l2_promotion, int oob_fill) {
  std::lock_guard lock(driver_mutex);
  if (global_dim == nullptr || box_dim == nullptr || element_strides == nullptr ||
      (rank > 1 && global_strides == nullptr) || data_type < 0 || interleave < 0 || swizzle < 0 || oob_fill < 0 ||
      l2_promotion < 0 || l2_promotion > 3) {
    fail("cuTensorMapEncodeTiled: a null array or an enum out of range");
    return kInvalidValue;
  }
  const std::string wrong = emulation::encode_tensor_map_tiled(
      tensor_map, static_cast<uint32_t>(data_type), rank, global_address, global_dim, global_strides, box_dim,
      element_strides, static_cast<uint32_t>(interleave), static_cast<uint32_t>(swizzle),
      static_cast<uint32_t>(oob_fill));
  if (!wrong.empty()) {
    fail("cuTensorMapEncodeTiled: %s", wrong.c_str());
    return kInvalidValue;
  }
  // The last element's byte, from the largest coordinate of every dimension.
  const unsigned long long element = static_cast<unsigned long long>(emulation::tensor_map_element_bytes(data_type));
  unsigned long long extent = element;
  for (unsigned d = 0; d < rank; ++d) extent += (global_dim[d] - 1) * (d == 0 ? element : global_strides[d - 1]);
  if (!valid_range(reinterpret_cast<CUdeviceptr>(global_address), extent)) {
    std::memset(tensor_map, 0, 128);
    fail("cuTensorMapEncodeTiled: the tensor (%llu bytes from %p) is not inside one allocation of this device", extent,
         global_address);
    return kInvalidValue;
  }
  return kSuccess;
}

// ---- For the emulated cuBLAS (host_work.h) ---------------------------------------------------------------------------

API int attention_emulation_enqueue(void* stream_handle, int (*run)(void*, char*, size_t), void (*release)(void*),
                                    void* state) {
  std::lock_guard lock(driver_mutex);
  device::Stream* stream = stream_of(stream_handle);
  const CUresult ready = check_ready();
  if (ready != kSuccess || stream == nullptr) {
    release(state);
    return ready != kSuccess ? ready : kInvalidHandle;
  }
  auto owned = std::shared_ptr<void>(state, release);
  work.enqueue(stream, "cuBLAS", [run, owned](std::string& report) {
    char text[512] = {};
    if (run(owned.get(), text, sizeof text) == 0) return kSuccess;
    report = text;
    return kIllegalAddress;
  });
  return kSuccess;
}

API int attention_emulation_device_range(const void* address, size_t bytes) {
  std::lock_guard lock(driver_mutex);
  return valid_range(reinterpret_cast<CUdeviceptr>(address), bytes) ? 1 : 0;
}
