#!/usr/bin/env bash
# The CUDA side's checks that need the toolkit but no GPU. ./build.sh calls it; it runs on its own as well:
#   bash Native/check.sh ptx                    regenerate the committed PTX (Native/*.cu -> Native/*.ptx) with nvcc
#   bash Native/check.sh check [report.xml]     the committed PTX is what nvcc makes of its source; ptxas -v per arch
#                                               reports no spills; each kernel's opted-in SASS opcodes are there; the
#                                               emulations Native/emulation/*.cpp pass. Each check is one test of an
#                                               xunit-style report (report.xml, for ./build.sh test's totals); the last
#                                               line is "native: N passed, N failed, N skipped"; exit 1 on a failure.
#                                               Without nvcc/ptxas every check is one skipped test, saying why.
#   bash Native/check.sh emulated-device <dir>  build the emulated device (Native/emulation/device: libcuda.so.1 and
#                                               libcublas.so.13) into <dir>; exit 77, saying why, where no C++20
#                                               compiler or toolkit cuda_fp16.h is installed.
set -uo pipefail
cd "$(dirname "$0")/.."

# Every Native/*.cu (headers *.cuh are included, not compiled) becomes Native/<name>.ptx: compute_80 PTX, which the
# driver JITs for sm_80 and later. No fast math: the fp32 kernels are held to 1e-5 against a float64 reference.
# The PTX is committed, so the library builds without a toolkit; `check` proves it current.
ptx_arch=compute_80
ptxas_archs=(sm_80 sm_90)
# nvcc 11.8 rejects gcc 12 as a host compiler; clang-14 is the one Native/install-cuda-toolkit.sh installs.
nvcc_ccbin=${NVCC_CCBIN:-$(command -v clang-14 || true)}

compile_ptx() { # compile_ptx <source.cu> <output.ptx>
  nvcc -ptx -arch="$ptx_arch" ${nvcc_ccbin:+-ccbin "$nvcc_ccbin"} -O3 -o "$2" "$1"
}

# The "Cuda compilation tools, release X, VY" line nvcc writes into every PTX header (and prints for --version).
nvcc_release() { grep -m 1 -o 'release [0-9.]*, V[0-9.]*' "$@" || true; }

have_toolkit() { command -v nvcc >/dev/null 2>&1 && command -v ptxas >/dev/null 2>&1; }

ptx() {
  have_toolkit || { echo "Native/check.sh ptx: nvcc not found (run Native/install-cuda-toolkit.sh)" >&2; return 2; }
  local src
  for src in Native/*.cu; do
    [ -f "$src" ] || continue
    compile_ptx "$src" "${src%.cu}.ptx" || return 1
    echo "ptx: $src -> ${src%.cu}.ptx ($(nvcc_release "${src%.cu}.ptx"))"
  done
}

# ptxas -v of one PTX file for one arch into <cubin>, its log (registers, stack, spills per entry) into <log>.
assemble() { # assemble <ptx> <arch> <cubin> <log>
  ptxas -v -arch="$2" -o "$3" "$1" >"$4" 2>&1
}

# Kernels opt in to SASS checks with a line in their .cu file:
#   // sass-check: <kernel> <OPCODE> [<OPCODE>...]
# e.g. "// sass-check: attention_mma_d64_f16 HMMA" for an mma kernel. Each named opcode must occur in the kernel's
# SASS for every arch in ptxas_archs.
sass_has_opcode() { # sass_has_opcode <cubin> <kernel> <opcode>
  cuobjdump --dump-sass --function "$2" "$1" 2>/dev/null | grep -Eq "[[:space:]]$3([.[:space:]]|$)"
}

# Sets emulation_cxx and emulation_flags (C++20, the kernels' include paths) for compiling kernel sources on the host
# (the emulations run each CUDA thread as a fiber); fails where there is no C++ compiler or toolkit cuda_fp16.h.
emulation_compiler() {
  local include
  emulation_cxx=$(command -v clang++-14 || command -v clang++ || command -v c++ || true)
  include=$(cd "$(dirname "$(command -v nvcc 2>/dev/null || echo /nonexistent/bin/nvcc)")/../include" 2>/dev/null && pwd -P || true)
  [ -n "$emulation_cxx" ] && [ -f "$include/cuda_fp16.h" ] || return 1
  # Kernels type-pun shared memory (float rows read as float4) as CUDA code does; strict aliasing would let the host
  # compiler reorder those accesses. -fsanitize=alignment checks every typed access against its type's alignment, as a
  # GPU's vector loads and stores do (emulation/memory_checks.hpp handles a violation: no sanitizer runtime is linked).
  emulation_flags=(-std=c++20 -fno-strict-aliasing -I Native -fsanitize=alignment -fno-sanitize-link-runtime)
  # -isystem /usr/include would reorder the C++ library's own #include_next chain: only a separate toolkit folder.
  [ "$include" = /usr/include ] || emulation_flags+=(-isystem "$include")
}

emulated_device() { # emulated_device <dir>
  [ -n "${1:-}" ] || { echo "usage: Native/check.sh emulated-device <dir>" >&2; return 2; }
  if ! emulation_compiler; then
    echo "skipped: the emulated device needs a C++20 compiler and the toolkit's cuda_fp16.h (Native/install-cuda-toolkit.sh)"
    return 77
  fi
  mkdir -p "$1" || return 1
  # Rebuilt only when a source under Native/ (kernels, runtime, device) is newer than either library.
  if [ -f "$1/libcuda.so.1" ] && [ -f "$1/libcublas.so.13" ] &&
     [ -z "$(find Native -newer "$1/libcuda.so.1" -print -quit)" ] && [ -z "$(find Native -newer "$1/libcublas.so.13" -print -quit)" ]; then
    echo "emulated device: $1/libcuda.so.1 and $1/libcublas.so.13 are up to date"
    return 0
  fi
  local flags=("${emulation_flags[@]}" -O2 -fPIC -shared)
  echo "emulated device: building $1/libcuda.so.1 and $1/libcublas.so.13"
  # cuBLAS queues its GEMMs on the emulated driver's streams (device/host_work.h): it links to the libcuda.so.1 beside it.
  "$emulation_cxx" "${flags[@]}" -o "$1/libcuda.so.1" Native/emulation/device/cuda_driver.cpp &&
    "$emulation_cxx" "${flags[@]}" -o "$1/libcublas.so.13" Native/emulation/device/cublas.cpp \
      -L "$1" -l:libcuda.so.1 -Wl,-rpath,'$ORIGIN'
}

# --- check: every outcome is one <test> of the report ------------------------------------------------------------
tests=() passed=0 failed=0 skipped=0
cdata() { printf '<![CDATA[%s]]>' "${1//]]>/]] >}"; }
pass() { tests+=("<test name=\"$1\" result=\"Pass\" />"); passed=$((passed + 1)); }
fail() {
  echo "FAIL native: $1: $2" >&2
  tests+=("<test name=\"$1\" result=\"Fail\"><failure><message>$(cdata "$2")</message></failure></test>")
  failed=$((failed + 1))
}
skip() {
  echo "   $1 skipped: $2"
  tests+=("<test name=\"$1\" result=\"Skip\"><reason>$(cdata "$2")</reason></test>")
  skipped=$((skipped + 1))
}

write_report() { # write_report <report.xml>
  [ -n "$1" ] || return 0
  mkdir -p "$(dirname "$1")"
  {
    echo '<?xml version="1.0" encoding="utf-8"?>'
    echo '<assemblies>'
    echo "  <assembly name=\"native\" test-framework=\"Native/check.sh\" total=\"$((passed + failed + skipped))\" passed=\"$passed\" failed=\"$failed\" skipped=\"$skipped\" errors=\"0\">"
    echo "    <collection name=\"native\" total=\"$((passed + failed + skipped))\" passed=\"$passed\" failed=\"$failed\" skipped=\"$skipped\">"
    printf '      %s\n' "${tests[@]}"
    echo '    </collection>'
    echo '  </assembly>'
    echo '</assemblies>'
  } >"$1"
}

emulations() { # emulations <scratch folder>
  local emulation binary
  for emulation in Native/emulation/*.cpp; do
    [ -f "$emulation" ] || continue
    if ! emulation_compiler; then
      skip "emulation $emulation" "it needs a C++20 compiler and the toolkit's cuda_fp16.h"
      continue
    fi
    binary=$1/$(basename "$emulation" .cpp)
    if ! "$emulation_cxx" "${emulation_flags[@]}" -O1 -o "$binary" "$emulation"; then
      fail "emulation $emulation" "it does not compile"
    elif "$binary" | sed 's/^/   /'; then
      pass "emulation $emulation"
    else
      fail "emulation $emulation" "the kernel differs from the float64 reference (output above)"
    fi
  done
}

# ptxas and the SASS checks of one source's shipped PTX (the committed copy; the fresh one where none is).
assembled_checks() { # assembled_checks <source.cu> <shipped.ptx> <scratch folder>
  local src=$1 shipped=$2 name arch cubin log spills kernel opcodes opcode
  name=$(basename "$src" .cu)
  for arch in "${ptxas_archs[@]}"; do
    cubin=$3/$name.$arch.cubin log=$3/$name.$arch.log
    if ! assemble "$shipped" "$arch" "$cubin" "$log"; then
      cat "$log" >&2
      fail "ptxas $arch $shipped" "ptxas -arch=$arch rejected it"
      continue
    fi
    # "Compiling entry function 'k' for 'sm_80'" is followed by its stack/spill and register lines.
    awk -v arch="$arch" '
      /Compiling entry function/ { split($0, quoted, "\047"); kernel = quoted[2] }
      /bytes spill stores/ { spills = $0; sub(/^[[:space:]]*/, "", spills) }
      /Used [0-9]+ registers/ { regs = $0; sub(/.*: /, "", regs); printf "   %-28s %s  %s; %s\n", kernel, arch, regs, spills }
    ' "$log"
    spills=$(grep -Eo '[0-9]+ bytes spill (stores|loads)' "$log" | grep -Ev '^0 ' || true)
    if [ -n "$spills" ]; then
      fail "ptxas $arch $shipped: no spills" "it spills registers ($(tr '\n' ' ' <<<"$spills"))"
    else
      pass "ptxas $arch $shipped: no spills"
    fi
    while read -r kernel opcodes; do
      for opcode in $opcodes; do
        if sass_has_opcode "$cubin" "$kernel" "$opcode"; then
          echo "   $kernel $arch contains $opcode"
          pass "sass $arch $kernel: $opcode"
        else
          fail "sass $arch $kernel: $opcode" "no $opcode in its $arch SASS"
        fi
      done
    done < <(sed -n 's|^[[:space:]]*//[[:space:]]*sass-check:[[:space:]]*||p' "$src")
  done
}

check() { # check [report.xml]
  local report=${1:-} tmp src name committed fresh ours theirs
  if ! have_toolkit; then
    skip "native checks" "nvcc/ptxas not found: PTX freshness, ptxas spill, SASS and emulation checks (Native/install-cuda-toolkit.sh installs them)"
    write_report "$report"
    echo "native: $passed passed, $failed failed, $skipped skipped"
    return 0
  fi
  tmp=$(mktemp -d)
  ours=$(nvcc_release <(nvcc --version))
  echo "== native: PTX checks with nvcc $ours${nvcc_ccbin:+ (host compiler $nvcc_ccbin)}"
  for committed in Native/*.ptx; do
    [ -f "$committed" ] && [ ! -f "${committed%.ptx}.cu" ] && fail "source of $committed" "it has no source ${committed%.ptx}.cu"
  done
  for src in Native/*.cu; do
    [ -f "$src" ] || continue
    name=$(basename "$src" .cu)
    committed=Native/$name.ptx fresh=$tmp/$name.ptx
    if ! compile_ptx "$src" "$fresh"; then
      fail "ptx $committed is current" "nvcc could not compile $src"
      continue
    fi
    # PTX from another nvcc release differs in more than its header: only the release that wrote it can check it.
    theirs=$(nvcc_release "$committed" 2>/dev/null)
    if [ ! -f "$committed" ]; then
      fail "ptx $committed is current" "it is missing: run ./build.sh ptx and commit it"
    elif [ "$theirs" != "$ours" ]; then
      skip "ptx $committed is current" "generated by nvcc $theirs, this is $ours"
    elif cmp -s "$fresh" "$committed"; then
      echo "   $committed is up to date"
      pass "ptx $committed is current"
    else
      fail "ptx $committed is current" "it differs from what nvcc makes of $src: run ./build.sh ptx and commit it"
    fi
    if [ -f "$committed" ]; then assembled_checks "$src" "$committed" "$tmp"; else assembled_checks "$src" "$fresh" "$tmp"; fi
  done
  emulations "$tmp"
  rm -rf "$tmp"
  write_report "$report"
  echo "native: $passed passed, $failed failed, $skipped skipped"
  [ "$failed" -eq 0 ]
}

case "${1:-}" in
  ptx) ptx ;;
  check) check "${2:-}" ;;
  emulated-device) emulated_device "${2:-}" ;;
  *) echo "usage: bash Native/check.sh ptx | check [report.xml] | emulated-device <dir>" >&2; exit 2 ;;
esac
