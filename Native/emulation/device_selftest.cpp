// Holds the emulated device (device/cuda_driver.cpp, compiled with attention_simt's kernels and those of
// device_selftest_kernels.hpp) to failing where a GPU would: each case plants one bug of a kind the device must
// catch and checks that it does — and that the correct variant passes — through the driver API, as the library
// calls it:
//   ptx        a PTX statement ptxas rejects (an unknown instruction without operands, an undeclared register, a
//              missing ';', a stray directive) fails the module load with a log naming its line
//   alignment  a misaligned uint4 load, float2 store or cp.async: CUDA_ERROR_MISALIGNED_ADDRESS naming kernel,
//              block, thread, address, type and source line
//   bounds     a host pointer (in a test kernel's struct and in attention_simt_f32's AttentionParams), freed memory,
//              a read past the end (the guard gap) and a write within the last 256-byte granule (the canary), a
//              null pointer: CUDA_ERROR_ILLEGAL_ADDRESS naming kernel, block, thread and what the address is; the
//              error is sticky until the context is released
//   ordering   results read before the host synchronised with their stream (an asynchronous copy, a synchronous
//              copy against a non-blocking stream, another stream's kernel) are the old contents; an event not yet
//              reached is CUDA_ERROR_NOT_READY; the legacy stream and cuMemFree wait as the driver does
//   blocks     a kernel that assumes blocks run one after another in index order, or that no other block runs
//              between its read and its write, gets what a GPU could give it; static __shared__ stays per block
//   registers  a kernel that ptxas gives about 200 registers cannot launch 1024 threads a block
//              (CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES); NUM_REGS and the info log are ptxas's; without ptxas the log
//              says the figures are not measured
//   cubin      an sm_90 cubin (ptxas's, at test time) loads with the figures it records and runs; an sm_80 one is
//              CUDA_ERROR_NO_BINARY_FOR_GPU, an ELF for another machine CUDA_ERROR_INVALID_IMAGE
//   tensor     cuTensorMapEncodeTiled refuses a host pointer, a tensor past its allocation and a box row wider than
//   maps       its swizzle
//   math       ex2.approx.ftz and exp2f differ from the correctly rounded 2^x by at most 2 ulp (and do differ),
//              flush subnormals where .ftz says so, and keep the documented special values
// Each case runs in a child process of its own (a fault leaves the context unusable, as on a GPU). ./build.sh test
// runs it with the other emulations (Native/check.sh).

#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#define EMULATION_DEVICE_SIMT_ONLY 1
#define EMULATION_DEVICE_EXTRA_KERNELS_HEADER "emulation/device_selftest_kernels.hpp"
#define EMULATION_DEVICE_EXTRA_KERNELS                                                                           \
  KERNEL(selftest_vector_load, ::shared), KERNEL(selftest_vector_store, ::shared), KERNEL(selftest_copy, ::shared), \
      KERNEL(selftest_block_chain, ::shared), KERNEL(selftest_block_counter, ::shared),                           \
      KERNEL(selftest_shared_isolation, ::shared), KERNEL(selftest_exp2, ::shared),                              \
      KERNEL(selftest_cp_async, ::shared), KERNEL(selftest_many_registers, ::shared),

#include "emulation/device/cuda_driver.cpp"

namespace {

int failures_in_case = 0;

void expect(bool ok, const char* what, const std::string& detail = {}) {
  if (ok) return;
  ++failures_in_case;
  std::printf("    FAILED: %s%s%s\n", what, detail.empty() ? "" : ": ", detail.c_str());
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A module of entries that only return, each taking one parameter of `param_bytes` (the struct the compiled kernel
// declares), or the PTX given.
std::string module_of(const std::vector<std::string>& names, size_t param_bytes) {
  std::string ptx = ".version 7.8\n.target sm_80\n.address_size 64\n";
  for (const std::string& name : names) {
    ptx += ".visible .entry " + name + "(\n\t.param .align 8 .b8 " + name + "_param_0[" + std::to_string(param_bytes) +
           "]\n)\n{\n\tret;\n}\n";
  }
  return ptx;
}

struct Loaded {
  CUresult result = -1;
  void* module = nullptr;
  std::string error_log, info_log;
};

Loaded load(const std::string& ptx) {
  Loaded loaded;
  static char info[16384], error[16384];
  info[0] = error[0] = 0;
  int options[] = {3, 4, 5, 6, 12};
  void* values[] = {info, reinterpret_cast<void*>(sizeof info), error, reinterpret_cast<void*>(sizeof error),
                    reinterpret_cast<void*>(1)};
  loaded.result = cuModuleLoadDataEx(&loaded.module, ptx.c_str(), 5, options, values);
  loaded.error_log = error;
  loaded.info_log = info;
  return loaded;
}

void* function_of(const std::string& name, size_t param_bytes = sizeof(selftest::Params)) {
  Loaded loaded = load(module_of({name}, param_bytes));
  expect(loaded.result == kSuccess, "the module loads", loaded.error_log);
  void* f = nullptr;
  expect(cuModuleGetFunction(&f, loaded.module, name.c_str()) == kSuccess, "the function is found", name);
  return f;
}

void start() {
  void* context = nullptr;
  expect(cuInit(0) == kSuccess, "cuInit");
  expect(cuDevicePrimaryCtxRetain(&context, 0) == kSuccess, "cuDevicePrimaryCtxRetain");
  expect(cuCtxSetCurrent(context) == kSuccess, "cuCtxSetCurrent");
}

CUdeviceptr allocate(size_t bytes) {
  CUdeviceptr p = 0;
  expect(cuMemAlloc_v2(&p, bytes) == kSuccess, "cuMemAlloc_v2");
  return p;
}

float* device(CUdeviceptr p) { return reinterpret_cast<float*>(p); }

CUresult launch(void* f, const selftest::Params& params, unsigned grid = 1, unsigned block = 32, void* stream = nullptr,
                unsigned shared = 0) {
  selftest::Params copy = params;
  void* args[] = {&copy};
  return cuLaunchKernel(f, grid, 1, 1, block, 1, 1, shared, stream, args, nullptr);
}

// Launches, synchronises, and returns the result with the fault's report.
CUresult run(void* f, const selftest::Params& params, unsigned grid = 1, unsigned block = 32, unsigned shared = 0) {
  const CUresult launched = launch(f, params, grid, block, nullptr, shared);
  if (launched != kSuccess) return launched;
  return cuCtxSynchronize();
}

// ---- ptx ---------------------------------------------------------------------------------------------------------

void ptx_statements() {
  start();
  const std::string head = ".version 7.8\n.target sm_80\n.address_size 64\n.visible .entry k()\n{\n"
                           "\t.reg .b32 \t%r<3>;\n";
  struct Planted {
    const char* what;
    std::string body;
    const char* log;
  } planted[] = {
      {"an unknown instruction without operands", "\tbogus.instruction;\n\tret;\n",
       "line 7; error   : Not a name of any known instruction: 'bogus'"},
      {"an unknown instruction with operands", "\tbogus.instruction %r1;\n\tret;\n", "line 7;"},
      {"an undeclared register", "\tmov.u32 \t%r3, 0;\n\tret;\n", "line 7; error   : Unknown symbol '%r3'"},
      {"a missing ';'", "\tmov.u32 \t%r1, 0\n\tret;\n", "line 7; error   : syntax error"},
      {"a directive a function body cannot hold", "\t.version 7.8;\n\tret;\n", "line 7; error   : Unknown directive"},
      {"an unknown instruction inside a label's line", "$L__BB0_1: frobnicate.u32 %r1, %r2;\n\tret;\n", "'frobnicate'"},
      {"a sub-qualifier with ':::'", "\tmbarrier.init.shared:::cta.b64 [%r1], %r2;\n\tret;\n",
       "line 7; error   : syntax error"},
  };
  for (const Planted& p : planted) {
    const Loaded loaded = load(head + p.body + "}\n");
    expect(loaded.result == kInvalidPtx, p.what, "the load returned " + std::to_string(loaded.result));
    expect(contains(loaded.error_log, p.log), p.what, "the log is: " + loaded.error_log);
    expect(contains(loaded.error_log, "ptxas fatal"), p.what, "no fatal line in: " + loaded.error_log);
  }
  const Loaded good = load(head + "\t.reg .pred \t%p<2>;\n\tmov.u32 \t%r1, %tid.x;\n\tsetp.ne.s32 \t%p1, %r1, 0;\n"
                                  "\t@%p1 bra \t$L__BB0_1;\n$L__BB0_1:\n\tret;\n}\n");
  expect(good.result == kSuccess, "a well-formed body loads", good.error_log);
  // The library's own modules load (every statement read).
  for (const char* file : {"Native/attention_simt.ptx", "Native/attention_splitkv.ptx", "Native/additive_attention.ptx"}) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    if (text.str().empty()) continue;  // run from another folder
    const Loaded loaded = load(text.str());
    expect(loaded.result == kSuccess, file, loaded.error_log);
  }
}

// ---- alignment -------------------------------------------------------------------------------------------------

void misaligned_load() {
  start();
  void* f = function_of("selftest_vector_load");
  const CUdeviceptr a = allocate(256), b = allocate(64);
  expect(run(f, {device(a), device(b), nullptr, 0, 16}) == kSuccess, "an aligned uint4 load runs", last_fault);
  expect(run(f, {device(a), device(b), nullptr, 0, 8}) == kMisalignedAddress, "a uint4 load at 8 bytes faults");
  for (const char* part : {"selftest_vector_load", "block (0, 0, 0), thread (1, 0, 0)", "uint4'",
                           "needs 16-byte alignment", "device_selftest_kernels.hpp"}) {
    expect(contains(last_fault, part), "the report names it", std::string(part) + " not in: " + last_fault);
  }
  char address[32];
  std::snprintf(address, sizeof address, "%#llx", static_cast<unsigned long long>(a + 8));
  expect(contains(last_fault, address), "the report names the address", last_fault);
  // Sticky, as a GPU's: the context refuses work until it is released.
  CUdeviceptr more = 0;
  expect(cuMemAlloc_v2(&more, 16) == kMisalignedAddress, "the error is sticky");
  expect(cuDevicePrimaryCtxRelease_v2(0) == kSuccess, "release");
  start();
  expect(cuMemAlloc_v2(&more, 16) == kSuccess, "a released context starts afresh");
}

void misaligned_store() {
  start();
  void* f = function_of("selftest_vector_store");
  const CUdeviceptr a = allocate(1024);
  expect(run(f, {device(a), nullptr, nullptr, 0, 8}) == kSuccess, "aligned float2 stores run", last_fault);
  expect(run(f, {device(a), nullptr, nullptr, 0, 4}) == kMisalignedAddress, "a float2 store at 4 bytes faults");
  char address[32];
  std::snprintf(address, sizeof address, "%#llx", static_cast<unsigned long long>(a + 4));
  expect(contains(last_fault, address) && contains(last_fault, "float2'") && contains(last_fault, "thread (0, 0, 0)"),
         "the report names the address, the type and the first thread", last_fault);
}

void misaligned_cp_async() {
  start();
  void* f = function_of("selftest_cp_async");
  const CUdeviceptr a = allocate(256);
  expect(run(f, {device(a), nullptr, nullptr, 0, 32}, 1, 32, 64) == kSuccess, "an aligned cp.async runs", last_fault);
  expect(run(f, {device(a), nullptr, nullptr, 0, 4}, 1, 32, 64) == kMisalignedAddress, "a cp.async from 4 bytes faults");
  expect(contains(last_fault, "cp.async source"), "the report names cp.async", last_fault);
}

// ---- bounds -------------------------------------------------------------------------------------------------------

void host_pointer() {
  start();
  void* f = function_of("selftest_copy");
  std::vector<float> host(64, 1.0f);
  const CUdeviceptr a = allocate(64 * sizeof(float));
  expect(run(f, {device(a), nullptr, host.data(), 64, 0}, 2, 32) == kIllegalAddress, "reading a host pointer faults");
  char address[32];
  std::snprintf(address, sizeof address, "%#llx", static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(host.data())));
  for (const std::string part : {std::string("selftest_copy: read"), std::string("host pointer ") + address,
                                 std::string("thread (0, 0, 0)")}) {
    expect(contains(last_fault, part), "the report names it", part + " not in: " + last_fault);
  }
}

// attention_simt_f32 itself, its AttentionParams' q a host pointer: the device finds the field without being told.
void host_pointer_in_attention_params() {
  start();
  std::ifstream in("Native/attention_simt.ptx");
  std::stringstream text;
  text << in.rdbuf();
  const Loaded loaded = load(text.str().empty() ? module_of({"attention_simt_f32"}, sizeof(attention::AttentionParams<float>))
                                                : text.str());
  void* f = nullptr;
  expect(cuModuleGetFunction(&f, loaded.module, "attention_simt_f32") == kSuccess, "attention_simt_f32 is found");
  const int d = 8, l = 4;
  const CUdeviceptr k = allocate(l * d * 4), v = allocate(l * d * 4), o = allocate(l * d * 4);
  std::vector<float> q(l * d, 0.5f);
  attention::AttentionParams<float> p = {};
  p.q = q.data();
  p.k = device(k);
  p.v = device(v);
  p.o = device(o);
  p.batch = p.q_heads = p.kv_heads = 1;
  p.q_len = p.k_len = l;
  p.head_dim = p.value_dim = d;
  p.num_splits = 1;
  p.q_stride_s = p.k_stride_s = p.v_stride_s = p.o_stride_s = d;
  p.q_stride_h = p.k_stride_h = p.v_stride_h = p.o_stride_h = l * d;
  p.q_stride_b = p.k_stride_b = p.v_stride_b = p.o_stride_b = l * d;
  p.scale = 0.35f;
  p.window_left = p.window_right = -1;
  void* args[] = {&p};
  expect(cuLaunchKernel(f, 1, 1, 1, 32, 4, 1, 4 * 2 * d * 4, nullptr, args, nullptr) == kSuccess, "the launch is queued");
  expect(cuCtxSynchronize() == kIllegalAddress, "attention_simt_f32 faults on a host q");
  expect(contains(last_fault, "attention_simt_f32: read") && contains(last_fault, "host pointer"),
         "the report names the kernel and the host pointer", last_fault);
}

void freed_memory() {
  start();
  void* f = function_of("selftest_copy");
  const CUdeviceptr a = allocate(256 * sizeof(float)), c = allocate(256 * sizeof(float));
  expect(run(f, {device(a), nullptr, device(c), 256, 0}, 8, 32) == kSuccess, "a copy between live allocations runs",
         last_fault);
  expect(cuMemFree_v2(c) == kSuccess, "cuMemFree_v2");
  expect(run(f, {device(a), nullptr, device(c), 256, 0}, 8, 32) == kIllegalAddress, "reading freed memory faults");
  expect(contains(last_fault, "which was freed"), "the report says the memory was freed", last_fault);
}

void past_the_end() {
  start();
  void* f = function_of("selftest_copy");
  // 256 floats end at a page's end: index 256 is in the guard gap.
  const CUdeviceptr a = allocate(512 * sizeof(float)), c = allocate(256 * sizeof(float));
  expect(run(f, {device(a), nullptr, device(c), 256, 0}, 8, 32) == kSuccess, "in bounds runs", last_fault);
  expect(run(f, {device(a), nullptr, device(c), 256, 1}, 9, 32) == kIllegalAddress, "reading one past the end faults");
  expect(contains(last_fault, "selftest_copy: read") &&
             contains(last_fault, "0 bytes past the end of the 1024-byte allocation") &&
             contains(last_fault, "block (8, 0, 0), thread (0, 0, 0)"),
         "the report names the allocation, and block 8's thread 0 (index 256)", last_fault);
}

void past_the_end_within_the_granule() {
  start();
  void* f = function_of("selftest_copy");
  // 100 floats: the allocation's last 256-byte granule has 112 bytes past its end, which the canary covers.
  const CUdeviceptr a = allocate(100 * sizeof(float)), c = allocate(128 * sizeof(float));
  const std::vector<float> values(128, 3.0f);
  cuMemcpyHtoD_v2(c, values.data(), values.size() * sizeof(float));
  expect(run(f, {device(a), nullptr, device(c), 100, 0}, 4, 32) == kSuccess, "in bounds runs", last_fault);
  expect(run(f, {device(a), nullptr, device(c), 100, 3}, 4, 32) == kIllegalAddress, "writing past the end faults");
  expect(contains(last_fault, "0 bytes past the end of the 400-byte allocation"), "the report names the allocation",
         last_fault);
}

void null_pointer() {
  start();
  void* f = function_of("selftest_copy");
  const CUdeviceptr a = allocate(64);
  expect(run(f, {device(a), nullptr, nullptr, 16, 0}) == kIllegalAddress, "reading a null pointer faults");
  expect(contains(last_fault, "not device memory"), "the report says so", last_fault);
}

// ---- ordering -------------------------------------------------------------------------------------------------------

void ordering() {
  start();
  void* f = function_of("selftest_copy");
  std::vector<float> host(256), back(256, -1.0f);
  for (int i = 0; i < 256; ++i) host[i] = static_cast<float>(i);
  const CUdeviceptr a = allocate(1024), c = allocate(1024);
  void *blocking = nullptr, *non_blocking = nullptr;
  expect(cuStreamCreate(&blocking, 0) == kSuccess && cuStreamCreate(&non_blocking, 1) == kSuccess, "cuStreamCreate");

  // An asynchronous copy back, read before the stream is synchronised: the buffer is as it was.
  expect(cuMemcpyHtoDAsync_v2(c, host.data(), 1024, blocking) == kSuccess, "HtoDAsync");
  expect(launch(f, {device(a), nullptr, device(c), 256, 0}, 8, 32, blocking) == kSuccess, "launch");
  expect(cuMemcpyDtoHAsync_v2(back.data(), a, 1024, blocking) == kSuccess, "DtoHAsync");
  expect(back[5] == -1.0f, "a result read before cuStreamSynchronize is the old contents");
  expect(cuStreamSynchronize(blocking) == kSuccess && back[5] == 5.0f, "after cuStreamSynchronize it is the result");

  // A kernel on a non-blocking stream, read with a synchronous copy without synchronising: fresh memory (0xff).
  const CUdeviceptr out = allocate(1024);
  expect(launch(f, {device(out), nullptr, device(c), 256, 0}, 8, 32, non_blocking) == kSuccess, "launch");
  expect(cuMemcpyDtoH_v2(back.data(), out, 1024) == kSuccess, "DtoH");
  expect(std::isnan(back[5]), "a non-blocking stream's result read by a synchronous copy is not there yet");
  expect(cuStreamSynchronize(non_blocking) == kSuccess && cuMemcpyDtoH_v2(back.data(), out, 1024) == kSuccess &&
             back[5] == 5.0f,
         "after synchronising the stream it is");

  // The legacy stream waits for blocking streams: a synchronous copy after a kernel on one sees its result.
  const CUdeviceptr out2 = allocate(1024);
  expect(launch(f, {device(out2), nullptr, device(c), 256, 0}, 8, 32, blocking) == kSuccess, "launch");
  expect(cuMemcpyDtoH_v2(back.data(), out2, 1024) == kSuccess && back[7] == 7.0f,
         "a synchronous copy waits for a blocking stream's kernel");

  // Two streams without an event between them: the reader's stream alone runs.
  const CUdeviceptr staged = allocate(1024), read = allocate(1024);
  expect(cuMemcpyHtoDAsync_v2(staged, host.data(), 1024, blocking) == kSuccess, "HtoDAsync");
  expect(launch(f, {device(read), nullptr, device(staged), 256, 0}, 8, 32, non_blocking) == kSuccess, "launch");
  expect(cuStreamSynchronize(non_blocking) == kSuccess, "sync");
  expect(cuMemcpyDtoH_v2(back.data(), read, 1024) == kSuccess && std::isnan(back[9]),
         "a kernel on another stream read the staging buffer before the copy into it ran");

  // Events: timing one the device has not reached is CUDA_ERROR_NOT_READY.
  void *begin = nullptr, *end = nullptr;
  expect(cuEventCreate(&begin, 0) == kSuccess && cuEventCreate(&end, 0) == kSuccess, "cuEventCreate");
  expect(cuEventRecord(begin, blocking) == kSuccess, "record");
  expect(launch(f, {device(a), nullptr, device(c), 256, 0}, 8, 32, blocking) == kSuccess, "launch");
  expect(cuEventRecord(end, blocking) == kSuccess, "record");
  float ms = -1;
  expect(cuEventElapsedTime(&ms, begin, end) == kNotReady, "elapsed time before the end event is reached");
  expect(cuEventSynchronize(end) == kSuccess && cuEventElapsedTime(&ms, begin, end) == kSuccess && ms >= 0,
         "after cuEventSynchronize it is measured");

  // cuMemFree waits for queued work that uses the memory.
  const CUdeviceptr doomed = allocate(1024);
  expect(launch(f, {device(doomed), nullptr, device(c), 256, 0}, 8, 32, non_blocking) == kSuccess, "launch");
  expect(cuMemFree_v2(doomed) == kSuccess && cuCtxSynchronize() == kSuccess, "a free waits for the kernel", last_fault);
}

// ---- blocks ---------------------------------------------------------------------------------------------------------

void block_order() {
  start();
  void* chain = function_of("selftest_block_chain");
  const int blocks = 8;
  const CUdeviceptr a = allocate(blocks * 4), b = allocate(blocks * 4);
  expect(run(chain, {device(a), device(b), nullptr, blocks, 0}, blocks, 32) == kSuccess, "the chain runs", last_fault);
  std::vector<float> seen(blocks);
  cuMemcpyDtoH_v2(seen.data(), b, blocks * 4);
  int in_order = 0;
  for (int i = 1; i < blocks; ++i) in_order += seen[i] == static_cast<float>(i) ? 1 : 0;
  expect(in_order < blocks - 1, "a block does not find its predecessor's result as if blocks ran in index order");

  void* counter = function_of("selftest_block_counter");
  const CUdeviceptr count = allocate(4);
  cuMemsetD8_v2(count, 0, 4);
  expect(run(counter, {device(count), nullptr, nullptr, 0, 0}, blocks, 64) == kSuccess, "the counter runs", last_fault);
  float total = 0;
  cuMemcpyDtoH_v2(&total, count, 4);
  expect(total < blocks, "blocks resident together lose a plain read-then-write increment",
         "the count is " + std::to_string(total));

  void* isolation = function_of("selftest_shared_isolation");
  const CUdeviceptr own = allocate(blocks * 4);
  expect(run(isolation, {nullptr, device(own), nullptr, 0, 0}, blocks, 64) == kSuccess, "isolation runs", last_fault);
  std::vector<float> flags(blocks);
  cuMemcpyDtoH_v2(flags.data(), own, blocks * 4);
  for (int i = 0; i < blocks; ++i) expect(flags[i] == 1.0f, "each block has its own static __shared__ memory");
}

// ---- registers --------------------------------------------------------------------------------------------------------

// About 200 floats loaded, then summed last to first: all live at once.
std::string register_hungry_ptx() {
  const int values = 200;
  std::string ptx = ".version 7.8\n.target sm_80\n.address_size 64\n.visible .entry selftest_many_registers(\n"
                    "\t.param .align 8 .b8 selftest_many_registers_param_0[" +
                    std::to_string(sizeof(selftest::Params)) + "]\n)\n{\n\t.reg .b64 \t%rd<3>;\n\t.reg .f32 \t%f<" +
                    std::to_string(2 * values + 1) + ">;\n";
  ptx += "\tld.param.u64 \t%rd1, [selftest_many_registers_param_0];\n\tcvta.to.global.u64 \t%rd2, %rd1;\n";
  for (int i = 0; i < values; ++i) ptx += "\tld.volatile.global.f32 \t%f" + std::to_string(i) + ", [%rd2+" + std::to_string(4 * i) + "];\n";
  ptx += "\tmov.f32 \t%f" + std::to_string(values) + ", %f" + std::to_string(values - 1) + ";\n";
  for (int i = 1; i < values; ++i) {
    ptx += "\tfma.rn.f32 \t%f" + std::to_string(values + i) + ", %f" + std::to_string(values + i - 1) + ", %f" +
           std::to_string(values - 1 - i) + ", %f" + std::to_string(i) + ";\n";
  }
  ptx += "\tst.global.f32 \t[%rd2], %f" + std::to_string(2 * values - 1) + ";\n\tret;\n}\n";
  return ptx;
}

void registers() {
  start();
  const Loaded loaded = load(register_hungry_ptx());
  expect(loaded.result == kSuccess, "the register-hungry module loads", loaded.error_log);
  void* f = nullptr;
  expect(cuModuleGetFunction(&f, loaded.module, "selftest_many_registers") == kSuccess, "found");
  if (device::find_on_path("ptxas").empty()) {
    std::printf("    (ptxas is not on PATH: the register figures are not measured)\n");
    return;
  }
  int registers = 0, max_threads = 0;
  cuFuncGetAttribute(&registers, 4, f);
  cuFuncGetAttribute(&max_threads, 0, f);
  expect(registers > 128, "ptxas gives it many registers", std::to_string(registers));
  expect(contains(loaded.info_log, "Used " + std::to_string(registers) + " registers"),
         "NUM_REGS is the info log's figure", loaded.info_log);
  expect(contains(loaded.info_log, "ptxas -v -arch=sm_90"), "the info log says where the figures come from");
  expect(max_threads == device::register_limited_threads(registers) && max_threads < 1024,
         "MAX_THREADS_PER_BLOCK follows from the registers", std::to_string(max_threads));
  const CUdeviceptr a = allocate(1024);
  expect(launch(f, {device(a), nullptr, nullptr, 0, 0}, 1, 1024) == kLaunchOutOfResources,
         "1024 threads a block cannot launch");
  expect(launch(f, {device(a), nullptr, nullptr, 0, 0}, 1, 128) == kSuccess && cuCtxSynchronize() == kSuccess,
         "128 threads a block can");
}

void registers_without_ptxas() {
  setenv("PATH", "/nonexistent", 1);
  start();
  const Loaded loaded = load(module_of({"selftest_copy"}, sizeof(selftest::Params)));
  expect(contains(loaded.info_log, "ptxas is not on PATH"), "the info log says the figures are not measured",
         loaded.info_log);
  void* f = nullptr;
  cuModuleGetFunction(&f, loaded.module, "selftest_copy");
  int registers = -1;
  cuFuncGetAttribute(&registers, 4, f);
  expect(registers == 0, "NUM_REGS is 0 (unmeasured)");
}

// ---- cubin ----------------------------------------------------------------------------------------------------------

// ptxas -arch=<arch> of `ptx` into a cubin image (empty where ptxas fails).
std::string cubin_of(const std::string& ptx, const char* arch) {
  const std::string ptxas = device::find_on_path("ptxas");
  char ptx_path[] = "/tmp/attention-selftest-ptx-XXXXXX";
  const int fd = mkstemp(ptx_path);
  if (fd < 0) return {};
  const bool written = write(fd, ptx.data(), ptx.size()) == static_cast<ssize_t>(ptx.size());
  close(fd);
  const std::string cubin_path = std::string(ptx_path) + ".cubin";
  std::string log;
  const int status =
      written ? device::run_program(ptxas, {std::string("-arch=") + arch, "-o", cubin_path, ptx_path}, log) : -1;
  unlink(ptx_path);
  std::ifstream in(cubin_path, std::ios::binary);
  std::stringstream image;
  image << in.rdbuf();
  unlink(cubin_path.c_str());
  return status == 0 ? image.str() : std::string();
}

void cubins() {
  if (device::find_on_path("ptxas").empty()) {
    std::printf("    (ptxas is not on PATH: no cubin to load)\n");
    return;
  }
  start();
  const std::string ptx = module_of({"selftest_copy"}, sizeof(selftest::Params));
  const std::string sm90 = cubin_of(ptx, "sm_90"), sm80 = cubin_of(ptx, "sm_80");
  expect(!sm90.empty() && !sm80.empty(), "ptxas makes sm_90 and sm_80 cubins");
  void* module = nullptr;
  expect(cuModuleLoadDataEx(&module, sm80.data(), 0, nullptr, nullptr) == kNoBinaryForGpu,
         "an sm_80 cubin is CUDA_ERROR_NO_BINARY_FOR_GPU on this sm_90 device");
  expect(cuModuleLoadDataEx(&module, sm90.data(), 0, nullptr, nullptr) == kSuccess, "an sm_90 cubin loads");
  void* f = nullptr;
  expect(cuModuleGetFunction(&f, module, "selftest_copy") == kSuccess, "its entry is found");
  const Loaded from_ptx = load(ptx);
  void* g = nullptr;
  cuModuleGetFunction(&g, from_ptx.module, "selftest_copy");
  int cubin_registers = -1, ptx_registers = -2, cubin_threads = 0;
  cuFuncGetAttribute(&cubin_registers, 4, f);
  cuFuncGetAttribute(&ptx_registers, 4, g);
  cuFuncGetAttribute(&cubin_threads, 0, f);
  expect(cubin_registers == ptx_registers, "NUM_REGS is the cubin's, as ptxas -v reports it for the PTX",
         std::to_string(cubin_registers) + " vs " + std::to_string(ptx_registers));
  expect(cubin_threads == device::register_limited_threads(cubin_registers), "MAX_THREADS_PER_BLOCK follows");
  const CUdeviceptr a = allocate(1024);
  expect(run(f, {device(a), nullptr, nullptr, 0, 0}, 1, 32) == kSuccess, "its kernel runs", last_fault);
  std::string garbage = sm90;
  garbage[18] = 3;  // e_machine: not CUDA
  expect(cuModuleLoadDataEx(&module, garbage.data(), 0, nullptr, nullptr) == kInvalidImage,
         "an ELF for another machine is CUDA_ERROR_INVALID_IMAGE");
}

// ---- tensor maps ----------------------------------------------------------------------------------------------------

void tensor_maps() {
  start();
  const CUdeviceptr a = allocate(64 * 64 * 2);
  alignas(64) unsigned char map[128];
  static uint16_t host[64 * 64];
  const uint64_t dims[2] = {64, 64}, taller[2] = {64, 65}, strides[1] = {128};
  const uint32_t box[2] = {64, 64}, ones[2] = {1, 1};
  auto encode = [&](void* address, const uint64_t* d, uint32_t swizzle) {
    return cuTensorMapEncodeTiled(map, 6, 2, address, d, strides, box, ones, 0, static_cast<int>(swizzle), 0, 0);
  };
  expect(encode(reinterpret_cast<void*>(a), dims, 3) == kSuccess, "a 64 × 64 f16 tensor in device memory encodes");
  expect(encode(host, dims, 3) == kInvalidValue, "a host pointer is CUDA_ERROR_INVALID_VALUE");
  expect(encode(reinterpret_cast<void*>(a), taller, 3) == kInvalidValue,
         "a tensor one row past its allocation is CUDA_ERROR_INVALID_VALUE");
  const uint32_t wide[2] = {128, 8};
  expect(cuTensorMapEncodeTiled(map, 6, 2, reinterpret_cast<void*>(a), dims, strides, wide, ones, 0, 3, 0, 0) ==
             kInvalidValue,
         "a box row wider than the 128B swizzle is CUDA_ERROR_INVALID_VALUE");
}

// ---- math -----------------------------------------------------------------------------------------------------------

int ulps_between(float a, float b) {
  int32_t x, y;
  std::memcpy(&x, &a, 4);
  std::memcpy(&y, &b, 4);
  return x > y ? x - y : y - x;
}

void approximate_math() {
  start();
  void* f = function_of("selftest_exp2");
  const int n = 4096;
  std::vector<float> x(n);
  for (int i = 0; i < n; ++i) x[i] = -140.0f + 160.0f * static_cast<float>(i) / n + 0.001f * static_cast<float>(i % 7);
  const CUdeviceptr a = allocate(n * 4), b = allocate(n * 4), c = allocate(n * 4);
  cuMemcpyHtoD_v2(c, x.data(), n * 4);
  expect(run(f, {device(a), device(b), reinterpret_cast<const float*>(c), n, 0}, n / 128, 128) == kSuccess, "exp2 runs",
         last_fault);
  std::vector<float> ftz(n), plain(n);
  cuMemcpyDtoH_v2(ftz.data(), b, n * 4);
  cuMemcpyDtoH_v2(plain.data(), a, n * 4);
  int differ = 0, worst = 0, flushed = 0, subnormal = 0;
  for (int i = 0; i < n; ++i) {
    const float exact = static_cast<float>(std::exp2(static_cast<double>(x[i])));
    if (std::fpclassify(exact) == FP_NORMAL) {
      differ += ftz[i] != exact ? 1 : 0;
      worst = std::max({worst, ulps_between(ftz[i], exact), ulps_between(plain[i], exact)});
    } else if (std::fpclassify(exact) == FP_SUBNORMAL) {
      flushed += ftz[i] == 0.0f ? 1 : 0;
      subnormal += plain[i] != 0.0f ? 1 : 0;
    }
  }
  expect(differ > n / 4, "ex2.approx is not the correctly rounded 2^x (code that needs it exact is caught)",
         std::to_string(differ) + " of " + std::to_string(n) + " differ");
  expect(worst <= 2, "and stays within its documented 2 ulp", std::to_string(worst) + " ulp");
  expect(flushed > 0 && subnormal > 0, "ex2.approx.ftz flushes subnormal results, exp2f keeps them");
  using emulation::device_math::ex2_approx_ftz;
  expect(ex2_approx_ftz(0.0f) == 1.0f && ex2_approx_ftz(-INFINITY) == 0.0f && std::isinf(ex2_approx_ftz(INFINITY)) &&
             std::isnan(ex2_approx_ftz(NAN)) && ex2_approx_ftz(1e-40f) == 1.0f,
         "the documented special values");
  expect(emulation::device_math::fdivide_approx(1.0f, 0x1p127f) == 0.0f, "__fdividef by more than 2^126 is 0");
}

struct Case {
  const char* name;
  void (*run)();
};

const Case kCases[] = {
    {"ptx: statements ptxas rejects fail the load", ptx_statements},
    {"alignment: misaligned uint4 load", misaligned_load},
    {"alignment: misaligned float2 store", misaligned_store},
    {"alignment: misaligned cp.async", misaligned_cp_async},
    {"bounds: host pointer", host_pointer},
    {"bounds: host pointer in attention_simt_f32's AttentionParams", host_pointer_in_attention_params},
    {"bounds: freed memory", freed_memory},
    {"bounds: one past the end (guard gap)", past_the_end},
    {"bounds: past the end within the last granule (canary)", past_the_end_within_the_granule},
    {"bounds: null pointer", null_pointer},
    {"ordering: streams, copies and events", ordering},
    {"blocks: order, residency and shared memory", block_order},
    {"registers: ptxas's figures and the launch limit", registers},
    {"registers: without ptxas", registers_without_ptxas},
    {"cubin: an sm_90 cubin loads with ptxas's figures, another SM's is refused", cubins},
    {"tensor maps: cuTensorMapEncodeTiled's argument and memory checks", tensor_maps},
    {"math: ex2.approx to its documented error", approximate_math},
};

}  // namespace

int main() {
  int failed = 0;
  for (const Case& c : kCases) {
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t child = fork();
    if (child == 0) {
      // The device's own reports (stderr) are what the cases check through last_fault; a failure prints them.
      std::freopen("/dev/null", "w", stderr);
      c.run();
      std::fflush(stdout);
      _exit(failures_in_case == 0 ? 0 : 1);
    }
    int status = 0;
    waitpid(child, &status, 0);
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok) ++failed;
    std::printf("  %s: %s\n", c.name, ok ? "ok" : (WIFEXITED(status) ? "FAILED" : "FAILED (crashed)"));
  }
  std::printf("emulated device selftest: %d cases: %s\n", static_cast<int>(sizeof kCases / sizeof kCases[0]),
              failed == 0 ? "ok" : "FAILED");
  return failed == 0 ? 0 : 1;
}
