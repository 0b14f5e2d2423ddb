// A kernel's parameters as the emulated device handles them: captured at cuLaunchKernel (the driver copies the
// arguments when a launch is queued, so the caller may reuse its buffers at once), each with the size of the type the
// entry point declares, and their pointer fields found, so that a host pointer among them can be trapped
// (device_memory.hpp) before the kernel runs.
//
// The entry points take one parameter struct each (attention_params.cuh): flat aggregates of pointers and scalars,
// each field aligned to its own size, and tensor maps (128 bytes aligned to 64) for the Hopper kernels. Their pointer
// fields are found without naming them: a struct's field count is the most initialisers it accepts, and field i is a
// pointer when the struct still initialises from a value that converts only to pointers at position i (a tensor map
// from one that converts only to such a class, a scalar of n bytes from one that converts only to n-byte arithmetic
// types); offsets follow from C's layout rule, checked against sizeof.
#pragma once

#include <array>
#include <cstddef>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

namespace device {
namespace params {

struct AnyField {
  template <class U>
  operator U() const;
};
struct AnyPointer {
  template <class U>
    requires std::is_pointer_v<U>
  operator U() const;
};
template <size_t Bytes>
struct AnyScalar {
  template <class U>
    requires(std::is_arithmetic_v<U> && sizeof(U) == Bytes)
  operator U() const;
};

// A tensor map (CUtensorMap, hopper_ptx.cuh's TensorMap): an opaque class of 128 bytes aligned to 64, which the
// Hopper kernels' parameter structs hold by value.
struct AnyTensorMap {
  template <class U>
    requires(std::is_class_v<U> && sizeof(U) == 128 && alignof(U) == 64 && std::is_trivially_copyable_v<U>)
  operator U() const;
};

template <class T, size_t... I>
constexpr bool initialises_from(std::index_sequence<I...>) {
  return requires { T{(static_cast<void>(I), AnyField{})...}; };
}

template <class T, size_t N = 0>
constexpr size_t field_count() {
  if constexpr (N > 96) {
    return N;
  } else if constexpr (initialises_from<T>(std::make_index_sequence<N + 1>{})) {
    return field_count<T, N + 1>();
  } else {
    return N;
  }
}

// Whether T{AnyField..., Probe (at position At), AnyField...} of Count initialisers is valid.
template <class T, size_t At, class Probe, size_t... I>
constexpr bool field_accepts(std::index_sequence<I...>) {
  return requires { T{std::conditional_t<I == At, Probe, AnyField>{}...}; };
}

// Field `At`'s size in bytes (pointers 8, tensor maps 128), or 0 where it is neither a pointer, a tensor map nor a
// scalar of 1, 2, 4 or 8 bytes; `alignment` its alignment (its size, but 64 for a tensor map).
template <class T, size_t Count, size_t At>
constexpr size_t field_size(bool& pointer, size_t& alignment) {
  constexpr auto all = std::make_index_sequence<Count>{};
  pointer = field_accepts<T, At, AnyPointer>(all);
  alignment = 0;
  if (pointer) return sizeof(void*);
  if (field_accepts<T, At, AnyTensorMap>(all)) {
    alignment = 64;
    return 128;
  }
  if (field_accepts<T, At, AnyScalar<8>>(all)) return 8;
  if (field_accepts<T, At, AnyScalar<4>>(all)) return 4;
  if (field_accepts<T, At, AnyScalar<2>>(all)) return 2;
  if (field_accepts<T, At, AnyScalar<1>>(all)) return 1;
  return 0;
}

constexpr size_t kMaxPointers = 32;

struct PointerFields {
  std::array<size_t, kMaxPointers> offsets{};
  size_t count = 0;
  size_t layout_bytes = 0;  // the struct's size by C's rule, to compare with sizeof
  bool understood = true;   // every field a pointer or a scalar
};

template <class T, size_t... I>
constexpr PointerFields pointer_fields_of(std::index_sequence<I...>) {
  PointerFields fields;
  size_t offset = 0, largest = 1;
  auto visit = [&](size_t size, size_t alignment, bool pointer) {
    if (size == 0) {
      fields.understood = false;
      return;
    }
    if (alignment == 0) alignment = size;
    offset = (offset + alignment - 1) / alignment * alignment;
    if (pointer && fields.count < kMaxPointers) fields.offsets[fields.count++] = offset;
    offset += size;
    largest = alignment > largest ? alignment : largest;
  };
  (
      [&] {
        bool pointer = false;
        size_t alignment = 0;
        const size_t size = field_size<T, sizeof...(I), I>(pointer, alignment);
        visit(size, alignment, pointer);
      }(),
      ...);
  fields.layout_bytes = (offset + largest - 1) / largest * largest;
  return fields;
}

// The pointer fields of a kernel parameter of type T: T itself when it is a pointer, a struct's pointer fields, none
// for a scalar.
template <class T>
constexpr PointerFields pointer_fields() {
  if constexpr (std::is_pointer_v<T>) {
    PointerFields fields;
    fields.offsets[0] = 0;
    fields.count = 1;
    fields.layout_bytes = sizeof(T);
    return fields;
  } else if constexpr (std::is_aggregate_v<T>) {
    constexpr PointerFields fields = pointer_fields_of<T>(std::make_index_sequence<field_count<T>()>{});
    static_assert(fields.understood && fields.layout_bytes == sizeof(T),
                  "a kernel parameter struct with a field that is neither a pointer nor a scalar, or not laid out "
                  "field by field at its own size: extend device/kernel_params.hpp");
    return fields;
  } else {
    return PointerFields{.layout_bytes = sizeof(T)};
  }
}

// One parameter as an entry point declares it: its size and pointer fields.
struct Parameter {
  size_t bytes;
  PointerFields pointers;
};

// A launch's arguments, copied out of the caller's kernelParams array, each aligned for its type.
class Arguments {
 public:
  Arguments() = default;
  Arguments(const std::vector<Parameter>& declared, void* const* params) {
    for (size_t i = 0; i < declared.size(); ++i) {
      auto& storage = storage_.emplace_back((declared[i].bytes + 15) / 16);
      std::memcpy(storage.data(), params[i], declared[i].bytes);
    }
    for (auto& s : storage_) pointers_.push_back(s.data());
  }
  void** params() { return pointers_.data(); }
  unsigned char* bytes(size_t i) { return reinterpret_cast<unsigned char*>(storage_[i].data()); }

 private:
  struct alignas(16) Chunk {
    unsigned char bytes[16];
  };
  std::vector<std::vector<Chunk>> storage_;
  std::vector<void*> pointers_;
};

}  // namespace params
}  // namespace device
