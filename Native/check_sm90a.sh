# The sm_90a (Hopper) part of Native/check.sh, which sources this file: the kernels whose PTX needs CUDA 12
# (wgmma, TMA, setmaxnreg: `.target sm_90a`) are built and checked with the CUDA 12.4 toolkit that
# Native/install-cuda-12.4.sh unpacks under artifacts/cuda-12.4, beside the system's 11.8.
#   Native/<name>.cu listed in sm90a_sources -> Native/sm90a/<name>.ptx (nvcc 12.4, compute_90a) and
#   Native/sm90a/<name>.cubin (ptxas 12.4 -arch=sm_90a), both committed and embedded in the library.
# check: both are what the 12.4 tools make of the source; ptxas -v reports no spills; every `// sass-check:` opcode
# is in the entry's SASS (cuobjdump 12.4) and every `// kernel-target:` line holds for sm_90a.

sm90a_sources=(Native/attention_hopper.cu)
sm90a_dir=Native/sm90a
cuda12_root=${CUDA12_ROOT:-artifacts/cuda-12.4}

is_sm90a_source() { # is_sm90a_source <source.cu>
  local s
  for s in "${sm90a_sources[@]}"; do [ "$s" = "$1" ] && return 0; done
  return 1
}

have_cuda12() { [ -x "$cuda12_root/usr/lib/nvidia-cuda-toolkit/bin/nvcc" ] && [ -x "$cuda12_root/usr/bin/ptxas" ]; }

# Runs a command with the 12.4 tools first on PATH (nvcc then finds its own ptxas, and cuobjdump is 12.4's).
with_cuda12() { PATH="$(cd "$cuda12_root" && pwd)/usr/bin:$PATH" "$@"; }

compile_sm90a() { # compile_sm90a <source.cu> <output.ptx> <output.cubin>
  with_cuda12 "$cuda12_root/usr/lib/nvidia-cuda-toolkit/bin/nvcc" -ptx -gencode=arch=compute_90a,code=sm_90a \
    ${nvcc_ccbin:+-ccbin "$nvcc_ccbin"} -O3 -o "$2" "$1" &&
    with_cuda12 ptxas -arch=sm_90a -o "$3" "$2"
}

sm90a_ptx() {
  have_cuda12 || { echo "Native/check.sh ptx: no CUDA 12.4 in $cuda12_root (run Native/install-cuda-toolkit.sh)" >&2; return 2; }
  local src name
  mkdir -p "$sm90a_dir"
  for src in "${sm90a_sources[@]}"; do
    name=$(basename "$src" .cu)
    compile_sm90a "$src" "$sm90a_dir/$name.ptx" "$sm90a_dir/$name.cubin" || return 1
    echo "ptx: $src -> $sm90a_dir/$name.ptx, $sm90a_dir/$name.cubin ($(nvcc_release "$sm90a_dir/$name.ptx"))"
  done
}

sm90a_checks() { # sm90a_checks <scratch folder>
  local src name fresh_ptx fresh_cubin file
  if ! have_cuda12; then
    for src in "${sm90a_sources[@]}"; do
      skip "sm_90a $src" "no CUDA 12.4 in $cuda12_root (Native/install-cuda-toolkit.sh unpacks it)"
    done
    return 0
  fi
  echo "== native: sm_90a checks with $(nvcc_release <(with_cuda12 ptxas --version))"
  for src in "${sm90a_sources[@]}"; do
    name=$(basename "$src" .cu)
    fresh_ptx=$1/$name.sm90a.ptx fresh_cubin=$1/$name.sm90a.cubin
    if ! compile_sm90a "$src" "$fresh_ptx" "$fresh_cubin"; then
      fail "sm_90a $src compiles" "nvcc/ptxas 12.4 could not compile it"
      continue
    fi
    for file in "$sm90a_dir/$name.ptx:$fresh_ptx" "$sm90a_dir/$name.cubin:$fresh_cubin"; do
      if [ ! -f "${file%%:*}" ]; then
        fail "${file%%:*} is current" "it is missing: run ./build.sh ptx and commit it"
      elif cmp -s "${file%%:*}" "${file#*:}"; then
        echo "   ${file%%:*} is up to date"
        pass "${file%%:*} is current"
      else
        fail "${file%%:*} is current" "it differs from what CUDA 12.4 makes of $src: run ./build.sh ptx and commit it"
      fi
    done
    # The shipped PTX through the same ptxas -v, SASS and kernel-target checks as the sm_80/sm_90 modules.
    local archs=("${ptxas_archs[@]}")
    ptxas_archs=(sm_90a)
    with_cuda12 assembled_checks "$src" "$sm90a_dir/$name.ptx" "$1"
    ptxas_archs=("${archs[@]}")
  done
}

# kernel-report rows of the sm_90a modules (appended to the report's rows file).
sm90a_report_rows() { # sm90a_report_rows <scratch folder> <rows file>
  have_cuda12 || return 0
  local src ptx
  for src in "${sm90a_sources[@]}"; do
    ptx=$sm90a_dir/$(basename "$src" .cu).ptx
    [ -f "$ptx" ] && with_cuda12 report_rows "$ptx" sm_90a "$1" >>"$2"
  done
}
