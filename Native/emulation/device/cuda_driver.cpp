// An emulated CUDA device for the test suite: the subset of the CUDA driver API that Managed/Attention.Native binds,
// built as a shared library named libcuda.so.1 that runs every kernel's own .cu source on the CPU through
// cuda_fiber_runtime.hpp. With it first on LD_LIBRARY_PATH the GPU test classes run end to end on a machine without a
// GPU: the C# parameter structs (each kernel's one parameter is read back as the struct the kernel declares),
// grids and shared-memory sizes (checked against the device's limits and the opt-in the host set, as the driver
// does), staging, workspaces, streams and cuBLAS calls (device/cublas.cpp) — everything but the GPU's arithmetic
// and timing. ./build.sh test builds it where the toolkit's headers are and runs the GPU classes against it.
//
// It is a test double, never a fallback: the library only loads when a test run puts its folder first on
// LD_LIBRARY_PATH, and the device it reports is named as an emulation.
//
// Kernels run one at a time (the fiber runtime's state is global), each on a thread of its own, in launch order; every
// call is synchronous, so streams and events only record order and host time. Device memory is host memory.

#include "emulation/cuda_fiber_runtime.hpp"

#define ATTENTION_EMULATION 1
#undef __launch_bounds__
#define __launch_bounds__(...)
#undef __align__
#define __align__(n) __attribute__((aligned(n)))

// Each kernel family's `extern __shared__` array; cuLaunchKernel points the runtime at the launched kernel's.
CUDA_EMULATION_DYNAMIC_SHARED_ARRAY(attention, float, shared)
CUDA_EMULATION_DYNAMIC_SHARED_ARRAY(attention::splitkv, float4, splitkv_shared)
CUDA_EMULATION_DYNAMIC_SHARED_ARRAY(attention::mma, unsigned char, attention_mma_shared)
// additive_attention_f32 declares `extern __shared__ float shared[]` inside an extern "C" function: C linkage.
extern "C" {
alignas(16) thread_local float shared[emulation::kMaxDynamicShared / sizeof(float)];
}

#include "attention_simt.cu"
#include "attention_splitkv.cu"
#include "attention_mma.cu"
#include "attention_mma_tf32.cu"
#include "additive_attention.cu"

#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <map>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <utility>

namespace {

using CUresult = int;
using CUdeviceptr = unsigned long long;

constexpr CUresult kSuccess = 0, kInvalidValue = 1, kOutOfMemory = 2, kNotInitialized = 3, kInvalidDevice = 101,
                   kInvalidImage = 200, kInvalidContext = 201, kInvalidPtx = 218, kInvalidHandle = 400,
                   kNotFound = 500, kLaunchOutOfResources = 701, kNotSupported = 801, kUnknown = 999;

// The device it stands for: an H200's limits, so that the host's tile and split choices are the ones a GPU gets.
constexpr int kMultiprocessors = 132;
constexpr int kSharedPerBlock = 48 * 1024;
constexpr int kSharedPerBlockOptIn = 232448;
constexpr int kMaxGridX = 2147483647, kMaxGridYZ = 65535, kMaxThreadsPerBlock = 1024;
constexpr size_t kTotalMemory = 16ull << 30;
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
constexpr size_t arity(void (*)(A...)) { return sizeof...(A); }

struct Kernel {
  const char* name;
  size_t parameters;
  emulation::DynamicShared (*shared)();  // this thread's copy of the kernel's dynamic shared array
  void (*run)(void** params);
};

template <auto Entry>
void run_entry(void** params) {
  call_with(Entry, params, std::make_index_sequence<arity(Entry)>{});
}

template <typename T, size_t N>
emulation::DynamicShared shared_of(T (&array)[N]) { return {reinterpret_cast<unsigned char*>(array), sizeof array}; }

#define KERNEL(name, array) {#name, arity(&name), [] { return shared_of(array); }, &run_entry<&name>}
#define SIMT(name) KERNEL(name, attention::shared)
#define SPLITKV(name) KERNEL(name, attention::splitkv::splitkv_shared)
#define MMA(name) KERNEL(name, attention::mma::attention_mma_shared)

const Kernel kKernels[] = {
    SIMT(attention_simt_f32), SIMT(attention_simt_f16), SIMT(attention_simt_bf16),
    SPLITKV(attention_splitkv_partial_f32), SPLITKV(attention_splitkv_partial_f16),
    SPLITKV(attention_splitkv_partial_bf16), SPLITKV(attention_splitkv_merge_f32),
    SPLITKV(attention_splitkv_merge_f16), SPLITKV(attention_splitkv_merge_bf16),
    MMA(attention_mma_d32_f16), MMA(attention_mma_d32_bf16), MMA(attention_mma_d64_f16),
    MMA(attention_mma_d64_bf16), MMA(attention_mma_d96_f16), MMA(attention_mma_d96_bf16),
    MMA(attention_mma_d128_f16), MMA(attention_mma_d128_bf16), MMA(attention_mma_d160_f16),
    MMA(attention_mma_d160_bf16), MMA(attention_mma_d192_f16), MMA(attention_mma_d192_bf16),
    MMA(attention_mma_d256_f16), MMA(attention_mma_d256_bf16),
    MMA(attention_mma_d32_f32), MMA(attention_mma_d64_f32), MMA(attention_mma_d96_f32),
    MMA(attention_mma_d128_f32), MMA(attention_mma_d160_f32), MMA(attention_mma_d192_f32),
    MMA(attention_mma_d256_f32),
    KERNEL(additive_attention_f32, ::shared),
};

const Kernel* find_kernel(const std::string& name) {
  for (const Kernel& k : kKernels) {
    if (name == k.name) return &k;
  }
  return nullptr;
}

// ---- Modules: what the PTX declares --------------------------------------------------------------------------------

// An entry whose whole body is `ret;` (the tests' hand-written modules) runs as an empty kernel.
void empty_kernel(void**) {}
const Kernel kEmptyKernel = {"(an entry that only returns)", 0, [] { return emulation::DynamicShared{}; }, &empty_kernel};

// PTX instruction names (the ISA's, through PTX 8.x): what the emulated JIT accepts as an opcode. It does not compile
// PTX, but it fails a module with an unknown instruction as the driver's JIT would, with a log saying which.
const char* const kPtxOpcodes[] = {
    "abs", "activemask", "add", "addc", "alloca", "and", "applypriority", "atom", "bar", "barrier", "bfe", "bfi",
    "bfind", "bmsk", "bra", "brev", "brkpt", "brx", "call", "clz", "cnot", "copysign", "cos", "cp", "createpolicy",
    "cvt", "cvta", "discard", "div", "dp2a", "dp4a", "elect", "ex2", "exit", "fence", "fma", "fns", "getctarank",
    "griddepcontrol", "isspacep", "istypeof", "ld", "ldmatrix", "ldu", "lg2", "lop3", "mad", "mad24", "madc", "mapa",
    "match", "max", "mbarrier", "membar", "min", "mma", "mov", "movmatrix", "mul", "mul24", "multimem", "nanosleep",
    "neg", "not", "or", "pmevent", "popc", "prefetch", "prefetchu", "prmt", "rcp", "red", "redux", "rem", "ret",
    "rsqrt", "sad", "selp", "set", "setmaxnreg", "setp", "shf", "shfl", "shl", "shr", "sin", "slct", "sqrt", "st",
    "stackrestore", "stacksave", "stmatrix", "sub", "subc", "suld", "suq", "sured", "sust", "szext", "tanh", "testp",
    "tex", "tld4", "trap", "txq", "vabsdiff", "vabsdiff2", "vabsdiff4", "vadd", "vadd2", "vadd4", "vavrg2", "vavrg4",
    "vmad", "vmax", "vmax2", "vmax4", "vmin", "vmin2", "vmin4", "vote", "vset", "vset2", "vset4", "vshl", "vshr",
    "vsub", "vsub2", "vsub4", "wgmma", "wmma", "xor"};

// The first instruction in `body` whose opcode is not PTX's, or an empty string.
std::string unknown_instruction(const std::string& body) {
  size_t start = body.find('{');
  if (start == std::string::npos) return {};
  std::string text = body.substr(start + 1);
  size_t line_start = 0;
  while (line_start < text.size()) {
    size_t line_end = text.find('\n', line_start);
    if (line_end == std::string::npos) line_end = text.size();
    std::string line = text.substr(line_start, line_end - line_start);
    line_start = line_end + 1;
    line = line.substr(0, line.find("//"));
    const size_t first = line.find_first_not_of(" \t{}");
    if (first == std::string::npos) continue;
    line = line.substr(first);
    if (line[0] == '.' || line[0] == '}' || line.back() == ':' || line.find(':') == line.find_first_of(" \t:")) {
      continue;  // a directive, a label or a brace
    }
    if (line[0] == '@') line = line.substr(line.find_first_of(" \t") == std::string::npos ? line.size() : line.find_first_of(" \t") + 1);
    const size_t word_end = line.find_first_of(". \t;");
    const std::string opcode = line.substr(0, word_end);
    if (opcode.empty()) continue;
    bool known = false;
    for (const char* name : kPtxOpcodes) known = known || opcode == name;
    if (!known) return line.substr(0, line.find(';'));
  }
  return {};
}

struct Function {
  std::string name;
  const Kernel* kernel = nullptr;
  int max_threads = kMaxThreadsPerBlock;  // .maxntid of the entry (its __launch_bounds__)
  int static_shared = 0;                  // bytes of the module's .shared variables the entry uses
  int max_dynamic_shared = kSharedPerBlock;
};

struct Module {
  std::map<std::string, Function> functions;
};

// Reads the entries of a PTX module: names, .maxntid, and the static .shared variables each body refers to.
bool parse_ptx(const char* text, Module& module, std::string& log) {
  const std::string ptx(text);
  if (ptx.find(".version") == std::string::npos || ptx.find(".target") == std::string::npos) {
    log = "ptxas fatal: no .version or .target directive: not a PTX module";
    return false;
  }
  std::map<std::string, int> shared_vars;
  // `.shared [.align n] .<type><bits> name[count]`: bytes = count · bits / 8.
  static const std::regex shared_decl(R"(\.shared\s+(?:\.align\s+\d+\s+)?\.[a-z]+(\d+)\s+([\w$]+)\[(\d+)\])");
  for (std::sregex_iterator it(ptx.begin(), ptx.end(), shared_decl), end; it != end; ++it) {
    shared_vars[(*it)[2]] = std::stoi((*it)[3]) * std::stoi((*it)[1]) / 8;
  }
  static const std::regex entry(R"(\.entry\s+([\w$]+)\s*\()");
  std::vector<std::pair<std::string, size_t>> entries;
  for (std::sregex_iterator it(ptx.begin(), ptx.end(), entry), end; it != end; ++it) {
    entries.emplace_back((*it)[1], static_cast<size_t>(it->position()));
  }
  for (size_t e = 0; e < entries.size(); ++e) {
    const size_t from = entries[e].second;
    const size_t to = e + 1 < entries.size() ? entries[e + 1].second : ptx.size();
    const std::string body = ptx.substr(from, to - from);
    if (std::string bad = unknown_instruction(body); !bad.empty()) {
      log = "ptxas error: in " + entries[e].first + ": unknown instruction '" + bad + "'";
      return false;
    }
    Function f;
    f.name = entries[e].first;
    f.kernel = find_kernel(f.name);
    static const std::regex only_returns(R"(^\.entry\s+[\w$]+\s*\(\s*\)\s*\{\s*ret;\s*\}\s*)");
    if (f.kernel == nullptr && std::regex_search(body, only_returns)) f.kernel = &kEmptyKernel;
    static const std::regex maxntid(R"(\.maxntid\s+(\d+)\s*,\s*(\d+)\s*,\s*(\d+))");
    std::smatch m;
    if (std::regex_search(body, m, maxntid)) f.max_threads = std::stoi(m[1]) * std::stoi(m[2]) * std::stoi(m[3]);
    for (const auto& [name, bytes] : shared_vars) {
      if (body.find(name) != std::string::npos) f.static_shared += bytes;
    }
    module.functions[f.name] = f;
  }
  return !module.functions.empty();
}

// ---- The thread that runs a kernel -------------------------------------------------------------------------------

// Runs a launch on a thread of its own, joined before returning: the runtime's shared-memory arrays are thread_local
// and the fibers' stacks must not be the caller's (a managed thread's), and no thread outlives the call (test runners
// count the threads left at exit).
void run_on_own_thread(const std::function<void()>& job) {
  std::thread thread(job);
  thread.join();
}

// ---- Driver state ---------------------------------------------------------------------------------------------------

std::recursive_mutex driver_mutex;  // the driver API is thread-safe; the emulation simply serialises it
bool initialised = false;
int context_tag = 0;  // the primary context is &context_tag
thread_local void* current_context = nullptr;
std::map<CUdeviceptr, size_t> allocations;
size_t allocated = 0;
int stream_count = 0;
std::map<void*, std::chrono::steady_clock::time_point> events;

bool valid_range(CUdeviceptr address, size_t bytes) {
  if (bytes == 0) return true;
  auto it = allocations.upper_bound(address);
  if (it == allocations.begin()) return false;
  --it;
  return address >= it->first && address + bytes <= it->first + it->second;
}

CUresult check_ready() {
  if (!initialised) return kNotInitialized;
  if (current_context == nullptr) return kInvalidContext;
  return kSuccess;
}

}  // namespace

#define API extern "C" __attribute__((visibility("default")))

API CUresult cuInit(unsigned flags) {
  std::lock_guard lock(driver_mutex);
  if (flags != 0) return kInvalidValue;
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
  if (context == nullptr) return kInvalidValue;
  if (!initialised) return kNotInitialized;
  if (device != 0) return kInvalidDevice;
  *context = &context_tag;
  return kSuccess;
}

API CUresult cuDevicePrimaryCtxRelease_v2(int device) { return device == 0 ? kSuccess : kInvalidDevice; }

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

API CUresult cuCtxSynchronize() { return check_ready(); }

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
    case kInvalidPtx: *name = "CUDA_ERROR_INVALID_PTX"; return kSuccess;
    case kInvalidHandle: *name = "CUDA_ERROR_INVALID_HANDLE"; return kSuccess;
    case kNotFound: *name = "CUDA_ERROR_NOT_FOUND"; return kSuccess;
    case kLaunchOutOfResources: *name = "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES"; return kSuccess;
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
  void* memory = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
  if (memory == nullptr) return kOutOfMemory;
  // Fresh device memory holds whatever was there: make that NaN-like, so reads before writes show.
  std::memset(memory, 0xff, bytes);
  *address = reinterpret_cast<CUdeviceptr>(memory);
  allocations[*address] = bytes;
  allocated += bytes;
  return kSuccess;
}

API CUresult cuMemFree_v2(CUdeviceptr address) {
  std::lock_guard lock(driver_mutex);
  auto it = allocations.find(address);
  if (it == allocations.end()) return kInvalidValue;
  allocated -= it->second;
  allocations.erase(it);
  std::free(reinterpret_cast<void*>(address));
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

API CUresult cuMemsetD8_v2(CUdeviceptr address, unsigned char value, size_t count) {
  std::lock_guard lock(driver_mutex);
  if (CUresult r = check_ready()) return r;
  if (!valid_range(address, count)) return kInvalidValue;
  std::memset(reinterpret_cast<void*>(address), value, count);
  return kSuccess;
}

API CUresult cuMemsetD8Async(CUdeviceptr address, unsigned char value, size_t count, void*) {
  return cuMemsetD8_v2(address, value, count);
}

API CUresult cuMemcpyHtoD_v2(CUdeviceptr destination, const void* source, size_t bytes) {
  std::lock_guard lock(driver_mutex);
  if (CUresult r = check_ready()) return r;
  if (!valid_range(destination, bytes) || (source == nullptr && bytes > 0)) return kInvalidValue;
  std::memcpy(reinterpret_cast<void*>(destination), source, bytes);
  return kSuccess;
}

API CUresult cuMemcpyDtoH_v2(void* destination, CUdeviceptr source, size_t bytes) {
  std::lock_guard lock(driver_mutex);
  if (CUresult r = check_ready()) return r;
  if (!valid_range(source, bytes) || (destination == nullptr && bytes > 0)) return kInvalidValue;
  std::memcpy(destination, reinterpret_cast<const void*>(source), bytes);
  return kSuccess;
}

API CUresult cuMemcpyDtoD_v2(CUdeviceptr destination, CUdeviceptr source, size_t bytes) {
  std::lock_guard lock(driver_mutex);
  if (CUresult r = check_ready()) return r;
  if (!valid_range(destination, bytes) || !valid_range(source, bytes)) return kInvalidValue;
  std::memmove(reinterpret_cast<void*>(destination), reinterpret_cast<const void*>(source), bytes);
  return kSuccess;
}

API CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr destination, CUdeviceptr source, size_t bytes, void*) {
  return cuMemcpyDtoD_v2(destination, source, bytes);
}

API CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr destination, const void* source, size_t bytes, void*) {
  return cuMemcpyHtoD_v2(destination, source, bytes);
}

API CUresult cuMemcpyDtoHAsync_v2(void* destination, CUdeviceptr source, size_t bytes, void*) {
  return cuMemcpyDtoH_v2(destination, source, bytes);
}

// ---- Streams and events ---------------------------------------------------------------------------------------------

API CUresult cuStreamCreate(void** stream, unsigned) {
  std::lock_guard lock(driver_mutex);
  if (stream == nullptr) return kInvalidValue;
  if (CUresult r = check_ready()) return r;
  *stream = reinterpret_cast<void*>(static_cast<uintptr_t>(0x1000 + ++stream_count));
  return kSuccess;
}

API CUresult cuStreamDestroy_v2(void*) { return kSuccess; }

API CUresult cuStreamSynchronize(void*) { return check_ready(); }

API CUresult cuEventCreate(void** event, unsigned) {
  std::lock_guard lock(driver_mutex);
  if (event == nullptr) return kInvalidValue;
  if (CUresult r = check_ready()) return r;
  *event = new char;
  events[*event] = {};
  return kSuccess;
}

API CUresult cuEventDestroy_v2(void* event) {
  std::lock_guard lock(driver_mutex);
  if (events.erase(event) == 0) return kInvalidHandle;
  delete static_cast<char*>(event);
  return kSuccess;
}

API CUresult cuEventRecord(void* event, void*) {
  std::lock_guard lock(driver_mutex);
  auto it = events.find(event);
  if (it == events.end()) return kInvalidHandle;
  it->second = std::chrono::steady_clock::now();
  return kSuccess;
}

API CUresult cuEventSynchronize(void* event) {
  std::lock_guard lock(driver_mutex);
  return events.count(event) ? kSuccess : kInvalidHandle;
}

API CUresult cuEventElapsedTime(float* milliseconds, void* start, void* end) {
  std::lock_guard lock(driver_mutex);
  if (milliseconds == nullptr) return kInvalidValue;
  auto a = events.find(start), b = events.find(end);
  if (a == events.end() || b == events.end()) return kInvalidHandle;
  *milliseconds = std::chrono::duration<float, std::milli>(b->second - a->second).count();
  return kSuccess;
}

// ---- Modules and launches -------------------------------------------------------------------------------------------

API CUresult cuModuleLoadDataEx(void** module, const void* image, unsigned option_count, int* options,
                                void** option_values) {
  std::lock_guard lock(driver_mutex);
  if (module == nullptr || image == nullptr) return kInvalidValue;
  if (CUresult r = check_ready()) return r;
  auto loaded = std::make_unique<Module>();
  std::string log;
  if (!parse_ptx(static_cast<const char*>(image), *loaded, log)) {
    // CU_JIT_ERROR_LOG_BUFFER (5) and its size (6), as the driver fills them.
    char* buffer = nullptr;
    size_t size = 0;
    for (unsigned i = 0; i < option_count; ++i) {
      if (options[i] == 5) buffer = static_cast<char*>(option_values[i]);
      if (options[i] == 6) size = reinterpret_cast<uintptr_t>(option_values[i]);
    }
    if (buffer != nullptr && size > 0) std::snprintf(buffer, size, "%s", log.c_str());
    return kInvalidPtx;
  }
  *module = loaded.release();
  return kSuccess;
}

API CUresult cuModuleUnload(void* module) {
  std::lock_guard lock(driver_mutex);
  if (module == nullptr) return kInvalidHandle;
  delete static_cast<Module*>(module);
  return kSuccess;
}

API CUresult cuModuleGetFunction(void** function, void* module, const char* name) {
  std::lock_guard lock(driver_mutex);
  if (function == nullptr || module == nullptr || name == nullptr) return kInvalidValue;
  auto& functions = static_cast<Module*>(module)->functions;
  auto it = functions.find(name);
  if (it == functions.end()) return kNotFound;
  if (it->second.kernel == nullptr) {
    fail("%s is in the PTX but not compiled into the emulation (device/cuda_driver.cpp's kKernels)", name);
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
    case 3: *value = 0; return kSuccess;
    case 4: *value = 64; return kSuccess;  // registers: no meaning here
    case 8: *value = f.max_dynamic_shared; return kSuccess;
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
                            unsigned block_y, unsigned block_z, unsigned shared_bytes, void*, void** params,
                            void** extra) {
  std::lock_guard lock(driver_mutex);
  if (CUresult r = check_ready()) return r;
  if (function == nullptr) return kInvalidHandle;
  const Function& f = *static_cast<Function*>(function);
  const unsigned long long threads = static_cast<unsigned long long>(block_x) * block_y * block_z;
  if (extra != nullptr || (params == nullptr && f.kernel->parameters > 0)) {
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
    fail("%s: %llu threads a block, more than its __launch_bounds__ (%d)", f.name.c_str(), threads, f.max_threads);
    return kLaunchOutOfResources;
  }
  if (static_cast<int>(shared_bytes) > f.max_dynamic_shared) {
    fail("%s: %u bytes of dynamic shared memory, more than the %d allowed (cuFuncSetAttribute opts in beyond 48 KiB)",
         f.name.c_str(), shared_bytes, f.max_dynamic_shared);
    return kInvalidValue;
  }
  bool overrun = false;
  run_on_own_thread([&] {
    // The dynamic shared array is thread_local: point the runtime at this thread's copy.
    emulation::dynamic_shared = f.kernel->shared();
    const auto result = emulation::launch(dim3(grid_x, grid_y, grid_z), dim3(block_x, block_y, block_z), shared_bytes,
                                          [&] { f.kernel->run(params); });
    overrun = result.shared_overrun;
  });
  if (overrun) {
    fail("%s wrote past the %u bytes of dynamic shared memory it was launched with", f.name.c_str(), shared_bytes);
    return kUnknown;  // a GPU would corrupt a neighbour's memory or fault: make the launch fail loudly
  }
  return kSuccess;
}
