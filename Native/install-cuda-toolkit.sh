#!/usr/bin/env bash
# Installs the CUDA toolkits that ./build.sh ptx and the PTX checks of ./build.sh test use:
#   - Debian 12's nvidia-cuda-toolkit (CUDA 11.8, from the non-free component) and clang-14, the host compiler nvcc
#     11.8 accepts (Debian 12's gcc 12 is too new for it): the compute_80 PTX of every Native/*.cu.
#   - CUDA 12.4.1 from Debian trixie's non-free nvidia-cuda-toolkit, unpacked (not installed) under
#     artifacts/cuda-12.4 by Native/install-cuda-12.4.sh: the sm_90a PTX and cubin of the Hopper kernels
#     (wgmma, TMA and setmaxnreg need PTX ISA 8.0+ and ptxas 12).
# Idempotent and non-interactive; a quick no-op for each toolkit that is present.
# The 11.8 part needs root (CI machines run as root) and a Debian/Ubuntu apt; anywhere else it says so and goes on,
# because the library builds from the committed PTX and cubins without a toolkit and build.sh then skips the checks.
set -euo pipefail
cd "$(dirname "$0")/.."

install_cuda_11_8() {
  if command -v nvcc >/dev/null 2>&1 && command -v clang-14 >/dev/null 2>&1; then
    echo "install-cuda-toolkit: $(nvcc --version | tail -n 1) and clang-14 already present"
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" -ne 0 ]; then
    echo "install-cuda-toolkit: needs root and apt-get; not installing (the PTX checks will be skipped)" >&2
    return 0
  fi

  export DEBIAN_FRONTEND=noninteractive

  # Enable contrib, non-free and non-free-firmware on every Debian source: deb822 (*.sources, "Components:" lines)
  # and one-line (sources.list, *.list) formats alike. Lines that already list a component are left as they are.
  add_components() {
    local file=$1
    [ -f "$file" ] || return 0
    case "$file" in
      *.sources)
        sed -i -E '/^Components:/ {
          / contrib( |$)/! s/$/ contrib/
          / non-free( |$)/! s/$/ non-free/
          / non-free-firmware( |$)/! s/$/ non-free-firmware/
        }' "$file"
        ;;
      *)
        sed -i -E '/^deb(-src)? .*debian/ {
          / contrib( |$)/! s/$/ contrib/
          / non-free( |$)/! s/$/ non-free/
          / non-free-firmware( |$)/! s/$/ non-free-firmware/
        }' "$file"
        ;;
    esac
  }

  if [ -f /etc/debian_version ] && ! grep -qi ubuntu /etc/os-release 2>/dev/null; then
    add_components /etc/apt/sources.list
    for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
      add_components "$f"
    done
  fi

  apt-get update -q
  apt-get install -y -q --no-install-recommends nvidia-cuda-toolkit clang-14
  echo "install-cuda-toolkit: $(nvcc --version | tail -n 1)"
}

install_cuda_11_8
bash Native/install-cuda-12.4.sh
