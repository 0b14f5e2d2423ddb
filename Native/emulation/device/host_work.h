// What the emulated cuBLAS (device/cublas.cpp) asks of the emulated driver (device/cuda_driver.cpp): work queued on a
// stream like a kernel — it runs when the stream is synchronised, in order with the kernels and copies around it — and
// the driver's view of device memory, so that a GEMM whose operands leave their allocations faults as a kernel would.
#pragma once

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// Queues `run(state, …)` on `stream` (0: the legacy default stream); `release(state)` follows it, run or not. `run`
// returns 0, or 1 after writing a fault report into `report`: the context's error becomes CUDA_ERROR_ILLEGAL_ADDRESS.
// Returns a CUresult: 0, or the context's error (then nothing is queued and `release` has run).
int attention_emulation_enqueue(void* stream, int (*run)(void* state, char* report, size_t report_bytes),
                                void (*release)(void* state), void* state);

// Whether [address, address + bytes) lies in one live allocation.
int attention_emulation_device_range(const void* address, size_t bytes);

#ifdef __cplusplus
}
#endif
