// The emulated tensor map: what cuTensorMapEncodeTiled (device/cuda_driver.cpp) stores in the 128 opaque bytes of a
// CUtensorMap, and the checks the CUDA driver API documents for its arguments. hopper_emulation.hpp's TMA copies
// read it back. Plain C++ (no runtime): the driver and the self-tests include it alike.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace emulation {

// The element size in bytes of each CUtensorMapDataType of cuda.h: UINT8, UINT16, UINT32, INT32, UINT64, INT64,
// FLOAT16, FLOAT32, FLOAT64, BFLOAT16, FLOAT32_FTZ, TFLOAT32, TFLOAT32_FTZ; 0 for any other value.
inline int tensor_map_element_bytes(uint32_t data_type) {
  constexpr int kBytes[] = {1, 2, 4, 4, 8, 8, 2, 4, 8, 2, 4, 4, 4};
  return data_type < sizeof kBytes / sizeof kBytes[0] ? kBytes[data_type] : 0;
}

// Whether a CUtensorMapDataType is floating-point (the NaN out-of-bounds fill is for those only).
inline bool tensor_map_floating(uint32_t data_type) { return data_type >= 6; }

// CUtensorMapSwizzle: NONE, 32B, 64B, 128B -> the span in bytes (0 for none).
inline int tensor_map_swizzle_span(uint32_t swizzle) { return swizzle == 0 ? 0 : 16 << swizzle; }

// The fields, laid out in the 128 bytes (a CUtensorMap is 64-byte aligned, 128 bytes).
struct EncodedTensorMap {
  static constexpr uint32_t kMagic = 0x544d4150;  // "TMAP": a map this driver encoded
  uint32_t magic;
  uint8_t rank, element_bytes, swizzle, nan_fill;  // swizzle: CUtensorMapSwizzle; nan_fill: OOB elements are NaN
  const void* global_address;
  uint64_t global_dim[5];
  uint64_t global_stride[5];  // bytes; [0] is the element size
  uint8_t box_dim[5];         // 1..256 stored as box - 1
  uint8_t element_stride[5];
};
static_assert(sizeof(EncodedTensorMap) <= 128, "a CUtensorMap is 128 bytes");

inline int box_extent(const EncodedTensorMap& map, int dim) { return map.box_dim[dim] + 1; }

// Validates cuTensorMapEncodeTiled's arguments as the CUDA driver API documents them and writes the map; returns
// an empty string, or what is wrong (the driver returns CUDA_ERROR_INVALID_VALUE).
inline std::string encode_tensor_map_tiled(void* tensor_map, uint32_t data_type, uint32_t rank,
                                           const void* global_address, const uint64_t* global_dim,
                                           const uint64_t* global_strides, const uint32_t* box_dim,
                                           const uint32_t* element_strides, uint32_t interleave, uint32_t swizzle,
                                           uint32_t oob_fill) {
  if (tensor_map == nullptr || reinterpret_cast<uintptr_t>(tensor_map) % 64 != 0)
    return "tensorMap is not 64-byte aligned";
  const int element = tensor_map_element_bytes(data_type);
  if (element == 0) return "unsupported tensorDataType " + std::to_string(data_type);
  if (rank < 1 || rank > 5) return "tensorRank " + std::to_string(rank) + " outside 1..5";
  if (interleave != 0) return "interleaved layouts are not emulated";
  if (swizzle > 3) return "unknown swizzle " + std::to_string(swizzle);
  if (oob_fill > 1) return "unknown oobFill " + std::to_string(oob_fill);
  if (oob_fill == 1 && !tensor_map_floating(data_type)) return "the NaN oobFill with an integer tensorDataType";
  if (global_address == nullptr || reinterpret_cast<uintptr_t>(global_address) % 16 != 0) {
    return "globalAddress is not 16-byte aligned";
  }
  EncodedTensorMap map{};
  map.magic = EncodedTensorMap::kMagic;
  map.rank = static_cast<uint8_t>(rank);
  map.element_bytes = static_cast<uint8_t>(element);
  map.swizzle = static_cast<uint8_t>(swizzle);
  map.nan_fill = static_cast<uint8_t>(oob_fill);
  map.global_address = global_address;
  map.global_stride[0] = static_cast<uint64_t>(element);
  for (uint32_t d = 0; d < rank; ++d) {
    const std::string dim = "[" + std::to_string(d) + "]";
    if (global_dim[d] == 0 || global_dim[d] > (1ull << 32)) return "globalDim" + dim + " outside 1..2^32";
    if (box_dim[d] == 0 || box_dim[d] > 256) return "boxDim" + dim + " outside 1..256";
    if (element_strides[d] == 0 || element_strides[d] > 8) return "elementStrides" + dim + " outside 1..8";
    if (d > 0) {
      const uint64_t stride = global_strides[d - 1];
      if (stride % 16 != 0 || stride >= (1ull << 40)) {
        return "globalStrides[" + std::to_string(d - 1) + "] not a multiple of 16 below 2^40";
      }
      map.global_stride[d] = stride;
    }
    map.global_dim[d] = global_dim[d];
    map.box_dim[d] = static_cast<uint8_t>(box_dim[d] - 1);
    map.element_stride[d] = static_cast<uint8_t>(element_strides[d]);
  }
  const uint32_t inner_bytes = box_dim[0] * static_cast<uint32_t>(element);
  if (inner_bytes % 16 != 0) return "boxDim[0] * element size is not a multiple of 16 bytes";
  const int span = tensor_map_swizzle_span(swizzle);
  if (span != 0 && inner_bytes > static_cast<uint32_t>(span)) {
    return "boxDim[0] * element size (" + std::to_string(inner_bytes) + " bytes) exceeds the swizzle span (" +
           std::to_string(span) + ")";
  }
  std::memset(tensor_map, 0, 128);
  std::memcpy(tensor_map, &map, sizeof map);
  return {};
}

}  // namespace emulation
