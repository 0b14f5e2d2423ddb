// Registers, local (stack) and static shared memory of each function, as the GPU's JIT would report them: the driver
// compiles the PTX it is given with the ptxas inside it, so the emulated device runs the toolkit's `ptxas -v
// -arch=sm_90` on the module's text (where ptxas is on PATH; `-arch=sm_90a` with CUDA 12's ptxas for a
// `.target sm_90a` module: assembler_for), caches the result by a hash of the text and ptxas's
// version (in memory, and in ptxas-cache/ beside this library when that folder can be written), and
//   - fills cuFuncGetAttribute's NUM_REGS, LOCAL_SIZE_BYTES and SHARED_SIZE_BYTES from it, and the launch limit a
//     register count implies (MAX_THREADS_PER_BLOCK: the register file holds 65 536 per SM);
//   - writes ptxas's log into CU_JIT_INFO_LOG_BUFFER, after a line that names where the figures come from;
//   - fails the module load with ptxas's errors where ptxas rejects the PTX (a PTX .version newer than the toolkit
//     reads is not an error of the module: the figures are then unmeasured, and the log says so).
// Without ptxas the figures are unmeasured: the info log says so, NUM_REGS and LOCAL_SIZE_BYTES are 0 and the static
// shared size is the PTX's own .shared declarations.
#pragma once

#include <dlfcn.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace device {

constexpr const char* kPtxasArch = "sm_90";

struct FunctionResources {
  int registers = 0;
  int shared = 0;  // static shared memory
  int local = 0;   // stack frame
};

struct PtxasReport {
  bool measured = false;   // ptxas ran and accepted the module
  bool rejected = false;   // ptxas found errors in it
  std::string provenance;  // the info log's first line: where the figures come from
  std::string log;         // ptxas's output
  std::map<std::string, FunctionResources> functions;
};

inline std::string find_on_path(const char* program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

// Runs `argv` with stdout and stderr into one string; its exit status, or −1 where it could not run.
inline int run_program(const std::string& program, std::vector<std::string> args, std::string& output) {
  char log_path[] = "/tmp/attention-emulation-ptxas-XXXXXX";
  const int log_fd = mkstemp(log_path);
  if (log_fd < 0) return -1;
  close(log_fd);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_path, O_WRONLY | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int status = -1;
  if (posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ) == 0) {
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  posix_spawn_file_actions_destroy(&actions);
  std::ifstream in(log_path);
  std::stringstream text;
  text << in.rdbuf();
  output = text.str();
  unlink(log_path);
  return status;
}

inline unsigned long long fnv1a(const std::string& text) {
  unsigned long long h = 1469598103934665603ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return h;
}

// The folder of this library (or program).
inline std::string library_folder() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&library_folder), &info) == 0 || info.dli_fname == nullptr) return ".";
  const std::string path = info.dli_fname;
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

// The folder of this library (or program) plus "/ptxas-cache", created if need be; empty where it cannot be.
inline std::string cache_folder() {
  const std::string path = library_folder() + "/ptxas-cache";
  mkdir(path.c_str(), 0755);
  return access(path.c_str(), W_OK) == 0 ? path : std::string();
}

// Reads ptxas -v's per-entry lines: "Compiling entry function 'k' for 'sm_90'", "Function properties for k" then
// "N bytes stack frame, …", "Used N registers, N bytes smem, …".
inline void parse_ptxas_log(const std::string& log, std::map<std::string, FunctionResources>& functions) {
  std::stringstream lines(log);
  std::string line, entry, properties_of;
  auto number_before = [](const std::string& l, const std::string& word) {
    const size_t at = l.find(word);
    if (at == std::string::npos || at == 0) return -1;
    size_t start = at;
    while (start > 0 && l[start - 1] == ' ') --start;
    size_t digits = start;
    while (digits > 0 && std::isdigit(static_cast<unsigned char>(l[digits - 1]))) --digits;
    return digits == start ? -1 : std::atoi(l.c_str() + digits);
  };
  auto quoted = [](const std::string& l) {
    const size_t a = l.find('\''), b = l.find('\'', a + 1);
    return a == std::string::npos || b == std::string::npos ? std::string() : l.substr(a + 1, b - a - 1);
  };
  while (std::getline(lines, line)) {
    if (line.find("Compiling entry function") != std::string::npos) {
      entry = quoted(line);
      functions[entry];
    } else if (const size_t at = line.find("Function properties for "); at != std::string::npos) {
      properties_of = line.substr(at + 24);
      while (!properties_of.empty() && std::isspace(static_cast<unsigned char>(properties_of.back()))) properties_of.pop_back();
    } else if (line.find("bytes stack frame") != std::string::npos) {
      if (properties_of == entry && !entry.empty()) functions[entry].local = number_before(line, " bytes stack frame");
    } else if (line.find("Used ") != std::string::npos && !entry.empty()) {
      FunctionResources& r = functions[entry];
      r.registers = number_before(line, " registers");
      const int smem = number_before(line, " bytes smem");
      r.shared = smem < 0 ? 0 : smem;
    }
  }
}

// The ptxas for a module: a `.target sm_90a` module (the Hopper kernels: wgmma, setmaxnreg) needs CUDA 12's ptxas
// with -arch=sm_90a, $CUDA12_ROOT/usr/bin/ptxas where that is set (the unpacked toolkit, as Native/hopper/check-ptx.sh
// uses it), else cuda-12.4/usr/bin/ptxas beside this library's folder; every other module the one on PATH with
// kPtxasArch.
struct Assembler {
  std::string ptxas, version, arch;
  std::string missing;  // why there is no ptxas for it
};

inline Assembler assembler_for(const std::string& ptx) {
  static std::map<std::string, std::string> versions;
  Assembler a;
  const bool arch_specific = ptx.find(".target sm_90a") != std::string::npos;
  a.arch = arch_specific ? "sm_90a" : kPtxasArch;
  const char* cuda12 = std::getenv("CUDA12_ROOT");
  std::string cuda12_ptxas = cuda12 != nullptr ? std::string(cuda12) + "/usr/bin/ptxas" : std::string();
  if (cuda12 == nullptr) cuda12_ptxas = library_folder() + "/../cuda-12.4/usr/bin/ptxas";  // artifacts/cuda-12.4
  if (arch_specific) {
    a.ptxas = !cuda12_ptxas.empty() && access(cuda12_ptxas.c_str(), X_OK) == 0 ? cuda12_ptxas : std::string();
    a.missing =
        "this sm_90a module needs CUDA 12's ptxas (" + cuda12_ptxas + ", or set $CUDA12_ROOT), which is not there";
  } else {
    a.ptxas = find_on_path("ptxas");
    a.missing = "ptxas is not on PATH";
  }
  if (a.ptxas.empty()) return a;
  auto known = versions.find(a.ptxas);
  if (known == versions.end()) {
    std::string out;
    run_program(a.ptxas, {"--version"}, out);
    const size_t release = out.find("Cuda compilation tools");
    const std::string version =
        release == std::string::npos ? "unknown version" : out.substr(release, out.find('\n', release) - release);
    known = versions.emplace(a.ptxas, version).first;
  }
  a.version = known->second;
  return a;
}

// ptxas -v of `ptx` for its arch (assembler_for), cached.
inline PtxasReport ptxas_report(const std::string& ptx) {
  static std::mutex mutex;
  static std::map<std::string, PtxasReport> memory;
  std::lock_guard lock(mutex);
  const Assembler assembler = assembler_for(ptx);
  const std::string& ptxas = assembler.ptxas;
  const std::string& version = assembler.version;
  const char* arch = assembler.arch.c_str();
  PtxasReport report;
  if (ptxas.empty()) {
    report.provenance = "emulated device: " + assembler.missing +
                        ", so registers and local memory are not measured (cuFuncGetAttribute reports 0) and static "
                        "shared memory is the PTX's .shared declarations";
    return report;
  }
  char key_text[64];
  std::snprintf(key_text, sizeof key_text, "%016llx-%s-%016llx", fnv1a(ptx), arch, fnv1a(version));
  const std::string key = key_text;
  if (auto it = memory.find(key); it != memory.end()) return it->second;
  report.provenance = "emulated device: registers and memory below are ptxas -v -arch=" + std::string(arch) +
                      " of this PTX (" + ptxas + ", " + version + "), as the driver's JIT compiles it; the kernels "
                      "themselves run on CPU fibers";
  const std::string folder = cache_folder();
  const std::string cached = folder.empty() ? std::string() : folder + "/" + key + ".log";
  int status = -1;
  std::string log;
  if (std::ifstream in(cached); !cached.empty() && in) {
    std::getline(in, log);
    status = std::atoi(log.c_str());
    std::stringstream rest;
    rest << in.rdbuf();
    log = rest.str();
  } else {
    char ptx_path[] = "/tmp/attention-emulation-ptx-XXXXXX";
    const int fd = mkstemp(ptx_path);
    if (fd >= 0) {
      const bool written = write(fd, ptx.data(), ptx.size()) == static_cast<ssize_t>(ptx.size());
      close(fd);
      if (written) status = run_program(ptxas, {"-v", std::string("-arch=") + arch, "-o", "/dev/null", ptx_path}, log);
      unlink(ptx_path);
    }
    if (!cached.empty() && status >= 0) {
      const std::string temporary = cached + ".tmp" + std::to_string(getpid());
      std::ofstream(temporary) << status << "\n" << log;
      std::rename(temporary.c_str(), cached.c_str());
    }
  }
  report.log = log;
  if (status == 0) {
    report.measured = true;
    parse_ptxas_log(log, report.functions);
  } else if (log.find("Unsupported .version") != std::string::npos || status < 0) {
    report.provenance = "emulated device: " + ptxas + " (" + version + ") could not assemble this PTX (" +
                        (status < 0 ? std::string("it did not run") : "its .version is newer than it reads") +
                        "), so registers and local memory are not measured (cuFuncGetAttribute reports 0)";
    report.log.clear();
  } else {
    report.rejected = true;
  }
  memory[key] = report;
  return report;
}

// Threads per block a register count allows on an sm_90 SM: 65 536 registers, allocated per warp in units of 256.
inline int register_limited_threads(int registers) {
  if (registers <= 0) return 1024;
  const int per_warp = (registers * 32 + 255) / 256 * 256;
  const int warps = 65536 / per_warp;
  return warps * 32 < 1024 ? warps * 32 : 1024;
}

}  // namespace device
