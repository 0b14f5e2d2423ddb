// The emulated driver's reading of a cubin (cuModuleLoadDataEx given an ELF image, as the library loads its sm_90a
// Hopper kernels on compute capability 9.0): the ELF64 of machine EM_CUDA (190) for sm_90 — any other SM is
// CUDA_ERROR_NO_BINARY_FOR_GPU, as on an H100/H200 — and what the driver needs of each entry (a global FUNC symbol
// marked STO_CUDA_ENTRY), as ptxas recorded it:
//   .nv.info.<entry>  EIATTR_KPARAM_INFO (0x17: ordinal, offset, size in bits 18..31 of its last word) → the
//                     parameters' sizes; EIATTR_MAX_THREADS (0x05: x, y, z) → its __launch_bounds__;
//   .nv.info          EIATTR_REGCOUNT (0x2f: symbol, count) and EIATTR_FRAME_SIZE (0x12: symbol, bytes);
//   .nv.shared.<entry> its static shared memory, plus the 1 KiB an sm_90 CTA reserves (subtracted).
// The kernels themselves run from their .cu source, as for PTX modules.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "emulation/device/ptx_module.hpp"
#include "emulation/device/ptxas_resources.hpp"

namespace device {
namespace cubin {

constexpr uint16_t kMachineCuda = 190;
constexpr int kReservedShared = 1024;  // an sm_90 CTA's reserved shared memory, counted in .nv.shared.<entry>

inline bool is_elf(const void* image) {
  return std::memcmp(image,
                     "\x7f"
                     "ELF",
                     4) == 0;
}

struct Section {
  std::string name;
  uint32_t type = 0, info = 0;
  uint64_t offset = 0, size = 0;
};

// Reads `image`; on success fills `module` (the entries) and `resources` (registers, stack, static shared); else
// `error` says why and `wrong_arch` whether the cubin is for another GPU.
inline bool read(const void* image, ptx::Module& module, std::map<std::string, FunctionResources>& resources,
                 std::string& error, bool& wrong_arch) {
  const auto* b = static_cast<const unsigned char*>(image);
  wrong_arch = false;
  auto u16 = [&](uint64_t at) {
    uint16_t v;
    std::memcpy(&v, b + at, 2);
    return v;
  };
  auto u32 = [&](uint64_t at) {
    uint32_t v;
    std::memcpy(&v, b + at, 4);
    return v;
  };
  auto u64 = [&](uint64_t at) {
    uint64_t v;
    std::memcpy(&v, b + at, 8);
    return v;
  };
  if (b[4] != 2 || b[5] != 1) {
    error = "not a 64-bit little-endian ELF";
    return false;
  }
  if (u16(18) != kMachineCuda) {
    error = "an ELF for machine " + std::to_string(u16(18)) + ", not CUDA (190)";
    return false;
  }
  const uint32_t flags = u32(48);
  if ((flags & 0xff) != 90) {
    wrong_arch = true;
    error = "a cubin for sm_" + std::to_string(flags & 0xff) + ", and this device is sm_90";
    return false;
  }
  const uint64_t section_headers = u64(40);
  const uint16_t header_size = u16(58), count = u16(60), names_index = u16(62);
  if (header_size != 64 || count == 0 || names_index >= count) {
    error = "malformed ELF section headers";
    return false;
  }
  std::vector<Section> sections(count);
  for (uint16_t i = 0; i < count; ++i) {
    const uint64_t h = section_headers + 64ull * i;
    sections[i] = {std::to_string(u32(h)), u32(h + 4), u32(h + 44), u64(h + 24), u64(h + 32)};
  }
  const uint64_t names = sections[names_index].offset;
  for (Section& s : sections) s.name = reinterpret_cast<const char*>(b + names + std::stoull(s.name));
  auto find = [&](const std::string& name) -> const Section* {
    for (const Section& s : sections) {
      if (s.name == name) return &s;
    }
    return nullptr;
  };
  const Section* symbols = find(".symtab");
  const Section* strings = find(".strtab");
  if (symbols == nullptr || strings == nullptr) {
    error = "no .symtab or .strtab";
    return false;
  }
  // Attributes of an .nv.info section: {format, attribute, [size,] value}; format 4 carries `size` bytes, 3 a 16-bit
  // value, 2 one byte, 1 none.
  auto attributes = [&](const Section& s, auto visit) {
    for (uint64_t at = s.offset; at + 2 <= s.offset + s.size;) {
      const uint8_t format = b[at], attribute = b[at + 1];
      if (format == 4) {
        const uint16_t size = u16(at + 2);
        visit(attribute, at + 4, size);
        at += 4 + size;
      } else {
        visit(attribute, at + 2, format == 3 ? 2 : format == 2 ? 1 : 0);
        at += format == 1 ? 2 : 4;
      }
    }
  };
  std::map<uint32_t, int> registers_of, frame_of;  // by symbol index
  if (const Section* info = find(".nv.info")) {
    attributes(*info, [&](uint8_t attribute, uint64_t at, uint16_t size) {
      if (size == 8 && attribute == 0x2f) registers_of[u32(at)] = static_cast<int>(u32(at + 4));
      if (size == 8 && attribute == 0x12) frame_of[u32(at)] = static_cast<int>(u32(at + 4));
    });
  }
  for (uint64_t at = symbols->offset, index = 0; at + 24 <= symbols->offset + symbols->size; at += 24, ++index) {
    const uint8_t type = b[at + 4] & 0xf, binding = b[at + 4] >> 4, other = b[at + 5];
    if (type != 2 || binding != 1 || (other & 0x10) == 0) continue;  // a global FUNC marked STO_CUDA_ENTRY
    ptx::Entry entry;
    entry.name = reinterpret_cast<const char*>(b + strings->offset + u32(at));
    std::map<uint16_t, size_t> params;  // by ordinal
    if (const Section* info = find(".nv.info." + entry.name)) {
      attributes(*info, [&](uint8_t attribute, uint64_t value, uint16_t size) {
        if (attribute == 0x17 && size == 12) params[u16(value + 4)] = u32(value + 8) >> 18;
        if (attribute == 0x05 && size == 12) {
          entry.max_threads = static_cast<int>(u32(value) * u32(value + 4) * u32(value + 8));
        }
      });
    }
    for (const auto& [ordinal, bytes] : params) entry.param_bytes.push_back(bytes);
    FunctionResources r;
    r.registers = registers_of.count(static_cast<uint32_t>(index)) ? registers_of[static_cast<uint32_t>(index)] : 0;
    r.local = frame_of.count(static_cast<uint32_t>(index)) ? frame_of[static_cast<uint32_t>(index)] : 0;
    if (const Section* shared = find(".nv.shared." + entry.name)) {
      r.shared =
          static_cast<int>(shared->size) > kReservedShared ? static_cast<int>(shared->size) - kReservedShared : 0;
    }
    entry.static_shared = r.shared;
    resources[entry.name] = r;
    module.entries.push_back(entry);
  }
  module.version = 90;  // the architecture it was built for, as CU_FUNC_ATTRIBUTE_PTX_VERSION reports a cubin's
  return true;
}

}  // namespace cubin
}  // namespace device
