#!/usr/bin/env bash
# Compiles Native/hopper/hopper_ptx_probe.cu (every wrapper of hopper_ptx.cuh) with CUDA 12's nvcc to sm_90a PTX and
# with its ptxas -arch=sm_90a to a cubin, and checks that the SASS holds each instruction family the wrappers stand
# for: HGMMA (one per wgmma shape, form and type: 50), UTMALDG and UTMASTG (TMA), SYNCS (mbarrier), WARPGROUP (wgmma
# fence and wait), USETMAXREG, FENCE.VIEW.ASYNC (fence.proxy.async) and BAR (named barriers).
#   bash Native/hopper/check-ptx.sh [scratch folder]
# The CUDA 12 toolkit: $CUDA12_ROOT, else artifacts/cuda-12.4 (the unpacked Debian trixie packages, usr/ inside).
# Exit 0 when every check holds, 1 on a failure, 77 (saying why) when no CUDA 12 toolkit is there.
set -uo pipefail
cd "$(dirname "$0")/../.."

root=${CUDA12_ROOT:-artifacts/cuda-12.4}
nvcc12=$root/usr/lib/nvidia-cuda-toolkit/bin/nvcc
if [ ! -x "$nvcc12" ] || [ ! -x "$root/usr/bin/ptxas" ]; then
  echo "no CUDA 12 toolkit at $root (set CUDA12_ROOT; Native/install-cuda-toolkit.sh)"
  exit 77
fi
root=$(cd "$root" && pwd)
scratch=${1:-$(mktemp -d)}
mkdir -p "$scratch"
ccbin=$(command -v clang-14 || true)

# PATH first: nvcc runs the ptxas/fatbinary beside it, not the system's CUDA 11.
if ! PATH="$root/usr/bin:$PATH" "$nvcc12" ${ccbin:+-ccbin "$ccbin"} -gencode=arch=compute_90a,code=sm_90a -O3 -ptx \
  Native/hopper/hopper_ptx_probe.cu -o "$scratch/hopper_ptx_probe.ptx"; then
  echo "nvcc 12 could not compile Native/hopper/hopper_ptx_probe.cu"
  exit 1
fi
if ! "$root/usr/bin/ptxas" -arch=sm_90a -o "$scratch/hopper_ptx_probe.cubin" "$scratch/hopper_ptx_probe.ptx" \
  2>"$scratch/hopper_ptx_probe.log"; then
  cat "$scratch/hopper_ptx_probe.log"
  echo "ptxas -arch=sm_90a rejected the probe's PTX"
  exit 1
fi
"$root/usr/bin/cuobjdump" --dump-sass "$scratch/hopper_ptx_probe.cubin" >"$scratch/hopper_ptx_probe.sass" || exit 1

status=0
for opcode in HGMMA UTMALDG UTMASTG SYNCS WARPGROUP USETMAXREG FENCE.VIEW.ASYNC BAR; do
  count=$(grep -cE "[[:space:]]$opcode([.[:space:]]|$)" "$scratch/hopper_ptx_probe.sass")
  if [ "$count" -eq 0 ]; then
    echo "missing $opcode in the probe's sm_90a SASS"
    status=1
  fi
done
hgmma=$(grep -cE '[[:space:]]HGMMA\.' "$scratch/hopper_ptx_probe.sass")
if [ "$hgmma" -ne 50 ]; then
  echo "HGMMA: $hgmma in the probe's SASS, one per wgmma wrapper instance expected (50)"
  status=1
fi
[ "$status" -eq 0 ] && echo "hopper_ptx.cuh: sm_90a SASS has HGMMA ($hgmma), UTMALDG, UTMASTG, SYNCS, WARPGROUP," \
  "USETMAXREG, FENCE.VIEW.ASYNC, BAR ($("$root/usr/bin/ptxas" --version | tail -n 1))"
exit "$status"
