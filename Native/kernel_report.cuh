// An entry point's launch, written into its PTX for `./build.sh kernel-report` (Native/check.sh, kernel_report.awk):
// ptxas reports registers and static shared memory, but the block size and the dynamic shared memory are the
// launcher's. An entry that states them with KERNEL_REPORT_LAUNCH(threads, dynamic_shared_bytes) from the same
// constants its tile is built with gets a comment line in its body,
//   // kernel-report: threads 128 dynamic-smem 98304
// from which the report counts its CTAs per SM. Only a comment: the SASS is the same with or without it.
// An entry without it is reported with "?" for threads (unless __launch_bounds__ gives them), dynamic shared memory,
// CTAs and warps per SM. One whose dynamic shared memory depends on the problem (attention_simt's 4·(D + Dv) floats)
// states the most its launcher asks for, kKernelReportMaxDynamicSharedBytes, so that the CTAs per SM are a floor.
// Device code only: the CPU emulations compile the entries as host C++, where the comment has no meaning.
#pragma once

// The most dynamic shared memory a launcher may ask for on an H100/H200: sm_90's opt-in maximum per block, 227 KiB
// (CudaKernel.Get opts every entry in to the device's maximum; the launch geometries reject a problem that needs more).
constexpr int kKernelReportMaxDynamicSharedBytes = 227 * 1024;

#if defined(ATTENTION_EMULATION) || !defined(__CUDA_ARCH__)
#define KERNEL_REPORT_LAUNCH(threads, dynamic_shared_bytes) static_cast<void>(0)
#else
#define KERNEL_REPORT_LAUNCH(threads, dynamic_shared_bytes) \
  asm volatile("// kernel-report: threads %0 dynamic-smem %1" ::"n"(threads), "n"(dynamic_shared_bytes))
#endif
