// Alignment checks of the emulations' kernel code, which runs as host C++ on raw pointers: a GPU faults on a vector
// access (uint4, float4, float2, int2, __half2, …) at an address not aligned to its size, where x86 would just load.
//
// The emulations are compiled with clang's -fsanitize=alignment (Native/check.sh), which checks every typed load,
// store and member access against its type's alignment — the same rule a GPU's vector instructions enforce, since a
// CUDA vector type's alignment is its size — and calls the handlers below on a misaligned one, with the source
// location and the type. They raise a fault of the running launch (cuda_fiber_runtime.hpp), as the GPU's
// CUDA_ERROR_MISALIGNED_ADDRESS; no sanitizer runtime is linked. Accesses the emulation makes with memcpy on behalf
// of an instruction (cp.async, ldmatrix, packed stores) check their alignment with check_aligned_access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>

namespace emulation {

// Faults an access of `bytes` at `p` (`what`: the instruction) that is not aligned to `alignment`.
inline void check_aligned_access(const void* p, size_t alignment, size_t bytes, const char* what) {
  if (reinterpret_cast<uintptr_t>(p) % alignment != 0) {
    raise_fault(FaultKind::kMisalignedAddress, "misaligned %s of %zu bytes at %p (needs %zu-byte alignment)", what,
                bytes, p, alignment);
  }
}

namespace ubsan {

// The handlers' argument layouts (compiler-rt's ubsan_handlers.h, as clang emits them).
struct SourceLocation {
  const char* file;
  uint32_t line;
  uint32_t column;
};

struct TypeDescriptor {
  uint16_t kind;
  uint16_t info;
  char name[1];
};

struct TypeMismatchData {
  SourceLocation location;
  const TypeDescriptor* type;
  unsigned char log_alignment;
  unsigned char check_kind;
};

struct AlignmentAssumptionData {
  SourceLocation location;
  SourceLocation assumption_location;
  const TypeDescriptor* type;
};

inline const char* check_kind_name(unsigned char kind) {
  static const char* const kNames[] = {"load of",          "store to",           "reference binding to",
                                       "member access within", "member call on", "constructor call on",
                                       "downcast of",      "downcast of",        "upcast of",
                                       "cast to virtual base of", "_Nonnull binding to", "dynamic operation on"};
  return kind < sizeof kNames / sizeof kNames[0] ? kNames[kind] : "access to";
}

// Host code of the emulated device outside a kernel (its driver API): reported, not fatal, as a sanitizer would.
inline bool report_outside_kernel(const SourceLocation& location, uintptr_t pointer) {
  if (exit_on_fault || running_kernel()) return false;
  std::fprintf(stderr, "emulation: misaligned access at %#llx at %s:%u (host code of the emulated device)\n",
               static_cast<unsigned long long>(pointer), location.file, location.line);
  return true;
}

inline void type_mismatch(const TypeMismatchData* data, uintptr_t pointer) {
  if (report_outside_kernel(data->location, pointer)) return;
  const uintptr_t alignment = uintptr_t{1} << data->log_alignment;
  if (pointer == 0) {
    raise_fault(FaultKind::kIllegalAddress, "%s a null pointer of type %s at %s:%u", check_kind_name(data->check_kind),
                data->type->name, data->location.file, data->location.line);
  }
  raise_fault(FaultKind::kMisalignedAddress, "misaligned %s %#llx of type %s (needs %llu-byte alignment) at %s:%u",
              check_kind_name(data->check_kind), static_cast<unsigned long long>(pointer), data->type->name,
              static_cast<unsigned long long>(alignment), data->location.file, data->location.line);
}

inline void alignment_assumption(const AlignmentAssumptionData* data, uintptr_t pointer, uintptr_t alignment) {
  if (report_outside_kernel(data->location, pointer)) return;
  raise_fault(FaultKind::kMisalignedAddress, "pointer %#llx assumed %llu-byte aligned at %s:%u",
              static_cast<unsigned long long>(pointer), static_cast<unsigned long long>(alignment),
              data->location.file, data->location.line);
}

}  // namespace ubsan
}  // namespace emulation

// Weak: every emulation program and the emulated device include this header once per translation unit.
extern "C" {
__attribute__((weak)) void __ubsan_handle_type_mismatch_v1(emulation::ubsan::TypeMismatchData* data, uintptr_t pointer) {
  emulation::ubsan::type_mismatch(data, pointer);
}
__attribute__((weak)) void __ubsan_handle_type_mismatch_v1_abort(emulation::ubsan::TypeMismatchData* data,
                                                                  uintptr_t pointer) {
  emulation::ubsan::type_mismatch(data, pointer);
}
__attribute__((weak)) void __ubsan_handle_alignment_assumption(emulation::ubsan::AlignmentAssumptionData* data,
                                                                uintptr_t pointer, uintptr_t alignment, uintptr_t) {
  emulation::ubsan::alignment_assumption(data, pointer, alignment);
}
__attribute__((weak)) void __ubsan_handle_alignment_assumption_abort(emulation::ubsan::AlignmentAssumptionData* data,
                                                                      uintptr_t pointer, uintptr_t alignment,
                                                                      uintptr_t) {
  emulation::ubsan::alignment_assumption(data, pointer, alignment);
}
}
