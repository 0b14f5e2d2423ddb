// An entry point's launch, written into its PTX for `./build.sh kernel-report` (Native/check.sh, kernel_report.awk):
// ptxas reports registers and static shared memory, but the block size and the dynamic shared memory are the
// launcher's. An entry that states them with KERNEL_REPORT_LAUNCH(threads, dynamic_shared_bytes) from the same
// constants its tile is built with gets a comment line in its body,
//   // kernel-report: threads 128 dynamic-smem 98304
// from which the report counts its CTAs per SM. Only a comment: the SASS is the same with or without it.
// An entry without it is reported with "?" for threads (unless __launch_bounds__ gives them), dynamic shared memory,
// CTAs and warps per SM. One whose dynamic shared memory depends on the problem (attention_simt's 4·(D + Dv) floats)
// states the most its launcher asks for, so that the CTAs per SM are a floor.
#pragma once

#ifdef ATTENTION_EMULATION
#define KERNEL_REPORT_LAUNCH(threads, dynamic_shared_bytes) static_cast<void>(0)
#else
#define KERNEL_REPORT_LAUNCH(threads, dynamic_shared_bytes) \
  asm volatile("// kernel-report: threads %0 dynamic-smem %1" ::"n"(threads), "n"(dynamic_shared_bytes))
#endif
