#!/usr/bin/env bash
# The CUDA side's checks that need the toolkit but no GPU. ./build.sh calls it; it runs on its own as well:
#   bash Native/check.sh ptx                    regenerate the committed PTX (Native/*.cu -> Native/*.ptx) with nvcc
#   bash Native/check.sh check [report.xml]     the committed PTX is what nvcc makes of its source; ptxas -v per arch
#                                               reports no spills; each kernel's opted-in SASS opcodes are there and
#                                               its kernel-target lines hold (see kernel-report); the emulations
#                                               Native/emulation/*.cpp pass. Each check is one test of an
#                                               xunit-style report (report.xml, for ./build.sh test's totals); the last
#                                               line is "native: N passed, N failed, N skipped"; exit 1 on a failure.
#                                               Without nvcc/ptxas every check is one skipped test, saying why.
#   bash Native/check.sh kernel-report [dir]    per entry of every Native/*.ptx and arch: registers, spills, shared
#                                               memory, threads, CTAs per SM on an H100/H200, and per iteration of its
#                                               main loop LDSM/HMMA, LDGSTS/HMMA, barriers (Native/kernel_report.awk);
#                                               then each kernel-target line's result. A table, and with <dir> also
#                                               <dir>/kernel-report.txt and kernel-report.csv.
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

# nvcc 11.8 writes one of two PTX texts for attention_splitkv.cu (the same instructions, zero-initialising moves
# placed in other blocks), about one run in three the rarer one, depending on where address-space randomisation puts
# its heap. A committed PTX is current when any of up to 12 compiles writes it byte for byte: a stale file still fails
# every time, while a current one fails by chance with odds of about (1/3)^12 when the commonest text is committed.
recompiles_to() { # recompiles_to <source.cu> <committed.ptx> <scratch.ptx>
  local try
  for try in $(seq 2 12); do
    compile_ptx "$1" "$3" && cmp -s "$3" "$2" && return 0
  done
  return 1
}

# The "Cuda compilation tools, release X, VY" line nvcc writes into every PTX header (and prints for --version).
nvcc_release() { grep -m 1 -o 'release [0-9.]*, V[0-9.]*' "$@" || true; }

have_toolkit() { command -v nvcc >/dev/null 2>&1 && command -v ptxas >/dev/null 2>&1; }

ptx() {
  have_toolkit || { echo "Native/check.sh ptx: nvcc not found (run Native/install-cuda-toolkit.sh)" >&2; return 2; }
  local src
  for src in Native/*.cu; do
    [ -f "$src" ] || continue
    is_sm90a_source "$src" && continue
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

# --- kernel-report: the static metrics of each entry (Native/kernel_report.awk) --------------------------------------
# Kernels state targets on them with a line in their .cu file, checked by `check` for every arch in ptxas_archs:
#   // kernel-target: <kernel> <metric><op><value> [...]
# metric: regs, spills (bytes stored + loaded), smem (static + dynamic bytes), ctas, warps (per SM on an H100/H200),
# ldsm/hmma, ldgsts/hmma, lds/hmma, bar/iter (per iteration of the main loop); op: >=, <= or ==.
# e.g. "// kernel-target: attention_mma_d64_f16 ctas>=2 ldsm/hmma<=0.35".

# The kernel_report.awk lines of one PTX module for one arch; assembles it unless <scratch>/<name>.<arch>.cubin exists.
report_rows() { # report_rows <module.ptx> <arch> <scratch folder>
  local name cubin log
  name=$(basename "$1" .ptx)
  cubin=$3/$name.$2.cubin log=$3/$name.$2.log
  if [ ! -f "$cubin" ] && ! assemble "$1" "$2" "$cubin" "$log"; then
    cat "$log" >&2
    return 1
  fi
  cuobjdump --dump-sass "$cubin" >"$3/$name.$2.sass" || return 1
  awk -v arch="$2" -f Native/kernel_report.awk "$1" "$log" "$3/$name.$2.sass"
}

# Each target of `<kernel> <target>...` against report rows: "met|missed <kernel> <arch> <target> (<metric> is <value>)".
evaluate_targets() { # evaluate_targets <rows file> <kernel> <target>...
  local rows=$1 kernel=$2
  shift 2
  awk -v kernel="$kernel" -v targets="$*" '
    function ratio(a, b) { return (a == "-" || b == "-" || b == 0) ? "-" : sprintf("%.3f", a / b) }
    $1 == kernel {
      seen++
      value["regs"] = $3; value["spills"] = $4 + $5; value["smem"] = ($7 == "?") ? "?" : $6 + $7
      value["ctas"] = $9; value["warps"] = $11; value["bar/iter"] = $15
      value["ldsm/hmma"] = ratio($13, $12); value["ldgsts/hmma"] = ratio($14, $12); value["lds/hmma"] = ratio($16, $12)
      n = split(targets, list, " ")
      for (i = 1; i <= n; i++) {
        t = list[i]
        if (!match(t, /(>=|<=|==)/)) { print "missed", kernel, $2, t, "(not <metric><op><value>)"; continue }
        metric = substr(t, 1, RSTART - 1); op = substr(t, RSTART, RLENGTH); bound = substr(t, RSTART + RLENGTH) + 0
        if (!(metric in value)) { print "missed", kernel, $2, t, "(no metric " metric ")"; continue }
        v = value[metric]
        ok = v != "?" && v != "-" && ((op == ">=" && v + 0 >= bound) || (op == "<=" && v + 0 <= bound) || (op == "==" && v + 0 == bound))
        print (ok ? "met" : "missed"), kernel, $2, t, "(" metric " is " v ")"
      }
    }
    END { if (!seen) print "missed", kernel, "-", targets, "(no such entry)" }
  ' "$rows"
}

# The rows as a table: ratios per HMMA of the main loop, "-" where it has no HMMA; "?" where the entry does not
# declare its launch (Native/kernel_report.cuh).
format_report() { # format_report <rows file>
  awk '
    function ratio(a, b) { return (a == "-" || b == "-" || b == 0) ? "-" : sprintf("%.3f", a / b) }
    BEGIN {
      printf "%-30s %-5s %4s %9s %7s %7s %7s %-12s %5s %5s %9s %11s %8s %8s\n", "entry", "arch", "regs", "spill st/ld", \
        "smem", "dynamic", "threads", "CTAs/SM", "warps", "HMMA", "LDSM/HMMA", "LDGSTS/HMMA", "LDS/HMMA", "BAR/iter"
    }
    {
      printf "%-30s %-5s %4d %9s %7d %7s %7s %-12s %5s %5s %9s %11s %8s %8s\n", $1, $2, $3, $4 "/" $5, $6, $7, $8, \
        $9 " (" $10 ")", $11, $12, ratio($13, $12), ratio($14, $12), ratio($16, $12), $15
    }
  ' "$1"
}

kernel_report() { # kernel_report [dir]
  have_toolkit || { echo "Native/check.sh kernel-report: nvcc/ptxas not found (run Native/install-cuda-toolkit.sh)" >&2; return 2; }
  local dir=${1:-} tmp ptx arch src kernel targets status=0
  tmp=$(mktemp -d)
  for ptx in Native/*.ptx; do
    [ -f "$ptx" ] || continue
    for arch in "${ptxas_archs[@]}"; do
      report_rows "$ptx" "$arch" "$tmp" >"$tmp/$(basename "$ptx" .ptx).$arch.rows" || { status=1; continue; }
    done
    # One entry's arch rows together, in the module's order.
    paste -d '\n' "$tmp/$(basename "$ptx" .ptx)".*.rows >>"$tmp/rows"
  done
  sm90a_report_rows "$tmp" "$tmp/rows"
  {
    echo "kernel-report: ptxas -v and cuobjdump --dump-sass of the committed PTX, $(nvcc_release <(ptxas --version))."
    echo "CTAs/SM: on an H100/H200 (65536 registers in 4 sub-partitions, 256 per warp; 228 KiB shared memory, 1 KiB"
    echo "reserved per CTA; 2048 threads; 32 CTAs), with the resource that binds. smem: static bytes; dynamic: the bytes"
    echo "the entry declares for its launch. HMMA, LDSM/HMMA, LDGSTS/HMMA, LDS/HMMA, BAR/iter: per iteration of the"
    echo "entry's main loop, static counts over every path through it (Native/kernel_report.awk)."
    echo
    format_report "$tmp/rows"
    echo
    echo "targets (kernel-target lines):"
    for src in Native/*.cu; do
      while read -r kernel targets; do
        evaluate_targets "$tmp/rows" "$kernel" $targets | sed 's/^/  /'
      done < <(sed -n 's|^[[:space:]]*//[[:space:]]*kernel-target:[[:space:]]*||p' "$src")
    done
  } >"$tmp/report.txt"
  cat "$tmp/report.txt"
  if [ -n "$dir" ]; then
    mkdir -p "$dir"
    cp "$tmp/report.txt" "$dir/kernel-report.txt"
    {
      echo "entry,arch,registers,spill_store_bytes,spill_load_bytes,static_smem_bytes,dynamic_smem_bytes,threads,ctas_per_sm,ctas_limited_by,warps_per_sm,loop_hmma,loop_ldsm,loop_ldgsts,loop_bar,loop_lds"
      tr ' ' ',' <"$tmp/rows"
    } >"$dir/kernel-report.csv"
  fi
  rm -rf "$tmp"
  return "$status"
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

# The sm_90a wrappers (Native/hopper/hopper_ptx.cuh) compile with CUDA 12 into the instructions they stand for.
hopper_wrappers() { # hopper_wrappers <scratch folder>
  local out status
  out=$(bash Native/hopper/check-ptx.sh "$1/hopper" 2>&1)
  status=$?
  case $status in
    0) echo "   $out" && pass "hopper wrappers sm_90a" ;;
    77) skip "hopper wrappers sm_90a" "$out" ;;
    *) fail "hopper wrappers sm_90a" "$out" ;;
  esac
}

# ptxas and the SASS checks of one source's shipped PTX (the committed copy; the fresh one where none is).
assembled_checks() { # assembled_checks <source.cu> <shipped.ptx> <scratch folder>
  local src=$1 shipped=$2 name arch cubin log spills kernel opcodes opcode targets target verdict why
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
    grep -q 'kernel-target:' "$src" || continue
    report_rows "$shipped" "$arch" "$3" >"$3/$name.$arch.rows" || { fail "kernel-target $arch $shipped" "no report rows"; continue; }
    while read -r kernel targets; do
      while read -r verdict _ _ target why; do
        if [ "$verdict" = met ]; then
          echo "   $kernel $arch meets $target $why"
          pass "kernel-target $arch $kernel: $target"
        else
          fail "kernel-target $arch $kernel: $target" "missed $why (./build.sh kernel-report)"
        fi
      done < <(evaluate_targets "$3/$name.$arch.rows" "$kernel" $targets)
    done < <(sed -n 's|^[[:space:]]*//[[:space:]]*kernel-target:[[:space:]]*||p' "$src")
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
    is_sm90a_source "$src" && continue
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
    elif cmp -s "$fresh" "$committed" || recompiles_to "$src" "$committed" "$fresh"; then
      echo "   $committed is up to date"
      pass "ptx $committed is current"
    else
      fail "ptx $committed is current" "it differs from what nvcc makes of $src: run ./build.sh ptx and commit it"
    fi
    if [ -f "$committed" ]; then assembled_checks "$src" "$committed" "$tmp"; else assembled_checks "$src" "$fresh" "$tmp"; fi
  done
  hopper_wrappers "$tmp"
  sm90a_checks "$tmp"
  emulations "$tmp"
  rm -rf "$tmp"
  write_report "$report"
  echo "native: $passed passed, $failed failed, $skipped skipped"
  [ "$failed" -eq 0 ]
}

# The sm_90a kernels (CUDA 12.4): Native/check_sm90a.sh.
source Native/check_sm90a.sh

case "${1:-}" in
  ptx) ptx && sm90a_ptx ;;
  check) check "${2:-}" ;;
  kernel-report) kernel_report "${2:-}" ;;
  emulated-device) emulated_device "${2:-}" ;;
  *) echo "usage: bash Native/check.sh ptx | check [report.xml] | kernel-report [dir] | emulated-device <dir>" >&2; exit 2 ;;
esac
