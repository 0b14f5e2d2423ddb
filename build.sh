#!/usr/bin/env bash
# Attention.Native build entry point.
#   ./build.sh              build (Release), then run the main job: the GPU-vs-CPU comparison on every backend present
#   ./build.sh test         build and run every test; ends with "N passed, N failed, N skipped"
#                           (includes Perf/check-outputs.sh: compare and heatmap write their Markdown, CSV and PNGs)
#                           (ATTENTION_NATIVE_ACCEPT_API=1: approve a changed public API and regenerate README's overview)
#   ./build.sh bench [f]    BenchmarkDotNet suite (optional filter, e.g. '*Decode*')
#   ./build.sh compare ...  the comparison command with your own options (see --help)
#   ./build.sh seed         the seed's examples on the layers (Tests/SeedSample): SelfAttention [32, 64, 512], 我 是 一只 狗
#   ./build.sh gemm ...     the CPU SGEMM table: GFLOP/s and % of the FMA peak measured in the same run, error vs
#                           float64 (options --threads, --shapes, --variants, --quick, --out; see gemm --help)
#   ./build.sh ptx          regenerate the committed PTX (Native/*.cu -> Native/*.ptx) with nvcc
#   ./build.sh device-pack  pack .device-pack/ for the GPU machine: a .NET runtime and the built tests and perf tool
#                           (Perf/device/README.md: carry it and run `bash Perf/device/run.sh` there)
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! command -v dotnet >/dev/null 2>&1; then
  echo "build.sh: the .NET 10 SDK (dotnet) is required and was not found on PATH." >&2
  exit 2
fi

configuration=Release
perf_project=Perf/Attention.Native.Perf/Attention.Native.Perf.csproj
tests_dir=Tests/Attention.Native.Tests
generator_tests_exe=Tests/Attention.Native.Generators.Tests/bin/$configuration/net10.0/Attention.Native.Generators.Tests
results_dir=artifacts/test-results

build() {
  dotnet build Attention.Native.sln -c "$configuration" -nologo -v minimal
}

# Runs the xunit v3 test executable ($tests_exe, else the main tests) once; its XML report goes to $results_dir/$1.xml.
run_tests() {
  local name=$1; shift
  local exe=${tests_exe:-"$tests_dir/bin/$configuration/net10.0/Attention.Native.Tests"}
  mkdir -p "$results_dir"
  echo "== tests: $name $*"
  "$exe" -noColor -result-xml "$results_dir/$name.xml" "$@" || true
}

# --- The GPU machine's pack (Perf/device/README.md) ----------------------------------------------------------------
# The GPU machine has no .NET: .device-pack/ (git-ignored, carried to it by name) holds a .NET runtime taken from this
# SDK install (the dotnet host, its hostfxr and shared/Microsoft.NETCore.App), the framework-dependent Release builds of
# the tests and the perf tool, a manifest and SHA256SUMS. Perf/device/run.sh unpacks and runs them there.
device_pack_dir=.device-pack
device_pack_limit_mib=60
# xz -1 on all cores: 10 s for the runtime on 2 cores, 3 MB more than -6 (which takes a minute); override to squeeze.
device_pack_xz=${DEVICE_PACK_XZ:--T0 -1}

# The newest installed Microsoft.NETCore.App of the major version the projects target: "<version> <shared dir>".
dotnet_runtime() {
  dotnet --list-runtimes | sed -n 's/^Microsoft\.NETCore\.App \(10\.[0-9.]*\) \[\(.*\)\]$/\1 \2/p' | sort -V | tail -n 1
}

# tar.xz of folder $1's contents (minus the patterns after $3) into $2, written atomically.
pack_folder() { # pack_folder <folder> <archive> [tar --exclude patterns...]
  local folder=$1 archive=$2; shift 2
  tar -C "$folder" "${@/#/--exclude=}" -cf - . | xz $device_pack_xz >"$archive.tmp" || return 1
  mv "$archive.tmp" "$archive"
}

device_pack() { # device_pack [--no-build]
  [ "${1:-}" = --no-build ] || build
  if [ "$(uname -m)" != x86_64 ]; then
    echo "device-pack: this machine is $(uname -m); the GPU machine is x86-64, so its runtime cannot come from here" >&2
    return 1
  fi
  local tests_bin=$tests_dir/bin/$configuration/net10.0 perf_bin=Perf/Attention.Native.Perf/bin/$configuration/net10.0
  local found version shared root fxr app config
  found=$(dotnet_runtime)
  [ -n "$found" ] || { echo "device-pack: no Microsoft.NETCore.App 10.x in 'dotnet --list-runtimes'" >&2; return 1; }
  version=${found%% *} shared=${found#* }            # shared = <root>/shared/Microsoft.NETCore.App
  root=$(dirname "$(dirname "$shared")")
  fxr=$(ls "$root/host/fxr" 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$fxr" ] || [ ! -x "$root/dotnet" ] || [ ! -d "$shared/$version" ]; then
    echo "device-pack: no dotnet host, host/fxr or shared/Microsoft.NETCore.App/$version under $root" >&2
    return 1
  fi
  for app in "$tests_bin/Attention.Native.Tests" "$perf_bin/Attention.Native.Perf"; do
    config=$app.runtimeconfig.json
    [ -f "$app.dll" ] || { echo "device-pack: $app.dll is missing (build first)" >&2; return 1; }
    # The GPU machine's image may lack ICU: both apps must run with invariant globalization.
    grep -q '"System.Globalization.Invariant": true' "$config" ||
      { echo "device-pack: $config lacks System.Globalization.Invariant = true (Directory.Build.props)" >&2; return 1; }
  done
  grep -aq 'ptx/attention_simt.ptx' "$tests_bin/Attention.Native.dll" ||
    { echo "device-pack: Attention.Native.dll has no embedded ptx/attention_simt.ptx" >&2; return 1; }

  mkdir -p "$device_pack_dir"
  local runtime_id="Microsoft.NETCore.App $version, hostfxr $fxr, from $root"
  if [ -f "$device_pack_dir/runtime.tar.xz" ] && [ "$(cat "$device_pack_dir/runtime.id" 2>/dev/null)" = "$runtime_id" ]; then
    echo "device-pack: runtime.tar.xz already holds $runtime_id"
  else
    echo "device-pack: packing $runtime_id"
    tar -C "$root" -cf - dotnet "host/fxr/$fxr" "shared/Microsoft.NETCore.App/$version" |
      xz $device_pack_xz >"$device_pack_dir/runtime.tar.xz.tmp" || return 1
    mv "$device_pack_dir/runtime.tar.xz.tmp" "$device_pack_dir/runtime.tar.xz"
    echo "$runtime_id" >"$device_pack_dir/runtime.id"
  fi
  echo "device-pack: packing the tests and the perf tool"
  pack_folder "$tests_bin" "$device_pack_dir/tests.tar.xz" || return 1
  # BenchmarkDotNet's Windows-only native helpers (x86/, amd64/, arm64/) and every native runtime folder but
  # linux-x64 (SkiaSharp/HarfBuzzSharp ship ~20 of them, ~450 MiB) are of no use on the x86-64 Linux GPU machine.
  local other_runtimes=() rid
  for rid in "$perf_bin"/runtimes/*/; do
    rid=$(basename "$rid")
    [ "$rid" = linux-x64 ] || [ "$rid" = '*' ] || other_runtimes+=("./runtimes/$rid")
  done
  pack_folder "$perf_bin" "$device_pack_dir/perf.tar.xz" ./x86 ./amd64 ./arm64 "${other_runtimes[@]}" || return 1
  (cd "$device_pack_dir" && sha256sum runtime.tar.xz tests.tar.xz perf.tar.xz >SHA256SUMS) || return 1

  local total commit
  total=$(cat "$device_pack_dir"/runtime.tar.xz "$device_pack_dir"/tests.tar.xz "$device_pack_dir"/perf.tar.xz | wc -c)
  commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  git diff --quiet HEAD 2>/dev/null || commit="$commit (+ uncommitted changes)"
  {
    echo "created: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n)"
    echo "git: $commit"
    echo "source-sha256: $(bash Perf/device/source-hash.sh)"
    echo "runtime: $runtime_id (linux-x64)"
    echo "runtime.tar.xz: dotnet host, host/fxr/$fxr, shared/Microsoft.NETCore.App/$version"
    echo "tests.tar.xz: framework-dependent $configuration build of $tests_dir (xunit v3 executable)"
    echo "perf.tar.xz: framework-dependent $configuration build of Perf/Attention.Native.Perf"
    echo "globalization: invariant (System.Globalization.Invariant = true in both runtimeconfig.json files)"
    local ptx_file
    for ptx_file in Native/*.ptx; do
      echo "ptx: embedded in Attention.Native.dll as resource ptx/${ptx_file#Native/} ($ptx_file sha256 $(sha256sum "$ptx_file" | cut -d' ' -f1))"
    done
    echo "total-bytes: $total"
  } >"$device_pack_dir/manifest.txt"
  ls -l "$device_pack_dir"
  echo "device-pack: $device_pack_dir/ holds $((total / 1048576)) MiB ($total bytes) to carry; limit $device_pack_limit_mib MiB"
  if [ "$total" -ge $((device_pack_limit_mib * 1048576)) ]; then
    echo "device-pack: FAIL: the pack is over $device_pack_limit_mib MiB (the device tool carries 64 MiB with the tree)" >&2
    return 1
  fi
}

# Perf/device/run.sh without a GPU, as the GPU machine will run it: the system dotnet hidden from PATH (a stub that
# fails loudly shadows whatever is left), OUT a scratch folder. Recorded as one check in $results_dir.
device_dry_run() {
  local out stub path="" entry start status=0 xml=$results_dir/device-dry-run.xml
  out=$(mktemp -d) stub=$(mktemp -d)
  printf '#!/bin/sh\necho "device dry run: the system dotnet was called ($*); run.sh must use the packed runtime" >&2\nexit 97\n' >"$stub/dotnet"
  chmod +x "$stub/dotnet"
  local IFS=:
  for entry in $PATH; do
    # Folders of a .NET install are dropped; a shared one (/usr/bin) stays, shadowed by the stub.
    case "$entry" in *dotnet*) continue ;; esac
    path=${path:+$path:}$entry
  done
  unset IFS
  echo "== device dry run: OUT=$out, PATH without .NET (stub first)"
  start=$SECONDS
  env -u DOTNET_ROOT PATH="$stub:$path" OUT="$out" DEVICE_DRY_RUN=1 bash Perf/device/run.sh || status=$?
  mkdir -p "$results_dir"
  local passed=1 failed=0
  if [ "$status" -ne 0 ] || [ ! -s "$out/report.md" ]; then
    passed=0 failed=1
    echo "FAIL device dry run: run.sh exited $status (report: $out/report.md)" >&2
  fi
  printf '<?xml version="1.0" encoding="utf-8"?>\n<assemblies>\n  <assembly name="device-dry-run" total="1" passed="%d" failed="%d" skipped="0" errors="0" not-run="0" time="%d" />\n</assemblies>\n' \
    "$passed" "$failed" $((SECONDS - start)) >"$xml"
  rm -rf "$stub"
  if [ "$failed" -eq 0 ]; then
    echo "== device dry run passed in $((SECONDS - start)) s"
    rm -rf "$out"
  fi
  return 0
}

# --- Native: PTX generation and checks ----------------------------------------------------------------------------
# Every Native/*.cu (headers *.cuh are included, not compiled) becomes Native/<name>.ptx: compute_80 PTX, which the
# driver JITs for sm_80 and later. No fast math: the fp32 kernels are held to 1e-5 against a float64 reference.
# The PTX is committed, so the library builds without a toolkit; `./build.sh test` checks it is current.
ptx_arch=compute_80
ptxas_archs=(sm_80 sm_90)
# nvcc 11.8 rejects gcc 12 as a host compiler; clang-14 is the one Native/install-cuda-toolkit.sh installs.
nvcc_ccbin=${NVCC_CCBIN:-$(command -v clang-14 || true)}

# Outcomes of the native checks, added to the test totals by summarize_tests.
native_passed=0 native_failed=0 native_skipped=0
native_pass() { native_passed=$((native_passed + 1)); }
native_fail() { echo "FAIL native: $*" >&2; native_failed=$((native_failed + 1)); }

compile_ptx() { # compile_ptx <source.cu> <output.ptx>
  nvcc -ptx -arch="$ptx_arch" ${nvcc_ccbin:+-ccbin "$nvcc_ccbin"} -O3 -o "$2" "$1"
}

# The "Cuda compilation tools, release X, VY" line nvcc writes into every PTX header (and prints for --version).
nvcc_release() { grep -m 1 -o 'release [0-9.]*, V[0-9.]*' "$@" || true; }

ptx() {
  command -v nvcc >/dev/null 2>&1 || { echo "build.sh ptx: nvcc not found (run Native/install-cuda-toolkit.sh)" >&2; exit 2; }
  local src
  for src in Native/*.cu; do
    [ -f "$src" ] || continue
    compile_ptx "$src" "${src%.cu}.ptx"
    echo "ptx: $src -> ${src%.cu}.ptx ($(nvcc_release "${src%.cu}.ptx"))"
  done
}

# Kernels opt in to SASS checks with a line in their .cu file:
#   // sass-check: <kernel> <OPCODE> [<OPCODE>...]
# e.g. "// sass-check: attention_mma_f16 HMMA" for an mma kernel. Each named opcode must occur in the kernel's
# SASS for every arch in ptxas_archs.
sass_has_opcode() { # sass_has_opcode <cubin> <kernel> <opcode>
  cuobjdump --dump-sass --function "$2" "$1" 2>/dev/null | grep -Eq "[[:space:]]$3([.[:space:]]|$)"
}

# Native/emulation/*.cpp run the kernels' own source on the CPU (each CUDA thread a fiber) against a float64 reference:
# the GPU-free check of their logic. They need a C++20 compiler and the toolkit's cuda_fp16.h / cuda_bf16.h.
# Sets emulation_cxx and emulation_flags (C++20, the kernels' include paths) for compiling kernel sources on the host;
# fails where there is no C++ compiler or no toolkit cuda_fp16.h.
emulation_compiler() {
  local include
  emulation_cxx=$(command -v clang++-14 || command -v clang++ || command -v c++ || true)
  include=$(cd "$(dirname "$(command -v nvcc 2>/dev/null || echo /nonexistent/bin/nvcc)")/../include" 2>/dev/null && pwd -P || true)
  [ -n "$emulation_cxx" ] && [ -f "$include/cuda_fp16.h" ] || return 1
  # Kernels type-pun shared memory (float rows read as float4) as CUDA code does; strict aliasing would let the host
  # compiler reorder those accesses.
  emulation_flags=(-std=c++20 -fno-strict-aliasing -I Native)
  # -isystem /usr/include would reorder the C++ library's own #include_next chain: only a separate toolkit folder.
  [ "$include" = /usr/include ] || emulation_flags+=(-isystem "$include")
}

native_emulations() { # native_emulations <scratch folder>
  local emulation binary
  for emulation in Native/emulation/*.cpp; do
    [ -f "$emulation" ] || continue
    if ! emulation_compiler; then
      echo "   $emulation skipped: it needs a C++20 compiler and the toolkit's cuda_fp16.h"
      native_skipped=$((native_skipped + 1))
      continue
    fi
    binary=$1/$(basename "$emulation" .cpp)
    if ! "$emulation_cxx" "${emulation_flags[@]}" -O1 -o "$binary" "$emulation"; then
      native_fail "$emulation does not compile"
    elif "$binary" | sed 's/^/   /'; then
      native_pass
    else
      native_fail "$emulation: the kernel differs from the float64 reference (see above)"
    fi
  done
}

# The GPU test classes, again, on the emulated device: Native/emulation/device/cuda_driver.cpp (libcuda.so.1: the
# driver API the bindings use, every kernel's own source on CPU fibers) and device/cublas.cpp (libcublas.so.13),
# put first on LD_LIBRARY_PATH for this one run. Where no GPU is, it checks the C# launchers' argument packing against
# the kernels' signatures, grids and shared-memory opt-ins against an H200's limits, staging, split-KV workspaces,
# cuBLAS operand order and the layers end to end; the device's name says it is emulated, and the tests skip problems
# larger than it runs in about a second (CudaTestEnvironment.EmulatedWorkLimit).
emulated_gpu_classes=('Cuda*' BackendSelectionTests)  # as Perf/device/run.sh's GPU step
emulated_gpu_tests() {
  local dir=artifacts/cuda-emulation flags class filters=()
  if ! emulation_compiler; then
    echo "== emulated GPU: skipped: it needs a C++20 compiler and the toolkit's cuda_fp16.h (Native/install-cuda-toolkit.sh)"
    native_skipped=$((native_skipped + 1))
    return 0
  fi
  mkdir -p "$dir"
  flags=("${emulation_flags[@]}" -O2 -fPIC -shared)
  echo "== emulated GPU: building $dir/libcuda.so.1 and libcublas.so.13"
  if ! "$emulation_cxx" "${flags[@]}" -o "$dir/libcuda.so.1" Native/emulation/device/cuda_driver.cpp ||
     ! "$emulation_cxx" "${flags[@]}" -o "$dir/libcublas.so.13" Native/emulation/device/cublas.cpp; then
    native_fail "the emulated device does not compile"
    return 0
  fi
  for class in "${emulated_gpu_classes[@]}"; do filters+=(-class "Attention.Native.Tests.$class"); done
  LD_LIBRARY_PATH="$PWD/$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" run_tests emulated-gpu "${filters[@]}"
  # gpu-bench's CUDA path (events, input rotation, forced kernels, the CSV) on tiny shapes: it fails on any error row.
  LD_LIBRARY_PATH="$PWD/$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" run_check emulated-gpu-bench \
    dotnet "Perf/Attention.Native.Perf/bin/$configuration/net10.0/Attention.Native.Perf.dll" gpu-bench \
    --shapes Perf/device/shapes-emulated.json --out "$results_dir/emulated-gpu-bench.csv" --budget-seconds 120
}

# Regenerates the PTX into a temporary folder and compares it with the committed copy, then runs ptxas -v per arch
# (failing on any spill) and the SASS opcode checks. Skipped, with one line saying so, where the toolkit is absent.
native_checks() {
  if ! command -v nvcc >/dev/null 2>&1 || ! command -v ptxas >/dev/null 2>&1; then
    echo "== native: nvcc/ptxas not found: PTX freshness, ptxas spill, SASS and emulation checks skipped" \
      "(Native/install-cuda-toolkit.sh installs them)"
    native_skipped=$((native_skipped + 1))
    return 0
  fi
  local tmp src name committed fresh shipped arch cubin log spills kernel opcodes opcode ours theirs
  tmp=$(mktemp -d)
  ours=$(nvcc_release <(nvcc --version))
  echo "== native: PTX checks with nvcc $ours${nvcc_ccbin:+ (host compiler $nvcc_ccbin)}"
  for committed in Native/*.ptx; do
    [ -f "$committed" ] || continue
    [ -f "${committed%.ptx}.cu" ] || native_fail "$committed has no source ${committed%.ptx}.cu"
  done
  for src in Native/*.cu; do
    [ -f "$src" ] || continue
    name=$(basename "$src" .cu)
    committed=Native/$name.ptx
    fresh=$tmp/$name.ptx
    if ! compile_ptx "$src" "$fresh"; then
      native_fail "nvcc could not compile $src"
      continue
    fi
    # PTX from another nvcc release differs in more than its header, so only the release that wrote the committed
    # copy can check it.
    theirs=$(nvcc_release "$committed" 2>/dev/null)
    if [ ! -f "$committed" ]; then
      native_fail "$committed is missing: run ./build.sh ptx and commit it"
    elif [ "$theirs" != "$ours" ]; then
      echo "   $committed was generated by nvcc $theirs, this is $ours: freshness check skipped"
      native_skipped=$((native_skipped + 1))
    elif cmp -s "$fresh" "$committed"; then
      echo "   $committed is up to date"
      native_pass
    else
      native_fail "$committed differs from what nvcc makes of $src: run ./build.sh ptx and commit it"
    fi
    # ptxas and the SASS checks look at the PTX that ships: the committed copy (the fresh one where none is).
    shipped=$committed
    [ -f "$shipped" ] || shipped=$fresh
    for arch in "${ptxas_archs[@]}"; do
      cubin=$tmp/$name.$arch.cubin
      log=$tmp/$name.$arch.log
      if ! ptxas -v -arch="$arch" -o "$cubin" "$shipped" >"$log" 2>&1; then
        cat "$log" >&2
        native_fail "ptxas -arch=$arch rejected $shipped"
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
        native_fail "$shipped spills registers on $arch ($(tr '\n' ' ' <<<"$spills"))"
      else
        native_pass
      fi
      while read -r kernel opcodes; do
        for opcode in $opcodes; do
          if sass_has_opcode "$cubin" "$kernel" "$opcode"; then
            echo "   $kernel $arch contains $opcode"
            native_pass
          else
            native_fail "$kernel has no $opcode in its $arch SASS"
          fi
        done
      done < <(sed -n 's|^[[:space:]]*//[[:space:]]*sass-check:[[:space:]]*||p' "$src")
    done
  done
  native_emulations "$tmp"
  rm -rf "$tmp"
  echo "== native: $native_passed passed, $native_failed failed, $native_skipped skipped"
}

# Runs a check that is a script rather than an xunit suite and records it as a one-test xunit-style report,
# $results_dir/<name>.xml (its output goes to <name>.log beside it), for summarize_tests to count. The script's exit
# status is the outcome: 0 passed, 77 skipped (the reason on a line "skipped: ..."), anything else failed.
run_check() {
  local name=$1; shift
  local log=$results_dir/$name.log start status seconds result reason detail passed=0 failed=0 skipped=0
  mkdir -p "$results_dir"
  echo "== check: $name ($*)"
  start=$SECONDS
  set +e
  "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  set -e
  seconds=$((SECONDS - start))
  case "$status" in
    0) result=Pass passed=1 reason= detail= ;;
    77) result=Skip skipped=1 reason=$(sed -n 's/^skipped: //p' "$log" | tail -n 1)
        detail="<reason><![CDATA[${reason//]]>/]] >}]]></reason>" ;;
    *) result=Fail failed=1 reason="exit status $status (output in $log)"
       detail="<failure><message><![CDATA[$reason]]></message></failure>" ;;
  esac
  cat >"$results_dir/$name.xml" <<XML
<?xml version="1.0" encoding="utf-8"?>
<assemblies>
  <assembly name="$name" test-framework="build.sh run_check" total="1" passed="$passed" failed="$failed" skipped="$skipped" errors="0" time="$seconds">
    <collection name="$name" total="1" passed="$passed" failed="$failed" skipped="$skipped" time="$seconds">
      <test name="$name: $*" result="$result" time="$seconds">$detail</test>
    </collection>
  </assembly>
</assemblies>
XML
  echo "== check: $name: $result in ${seconds} s${reason:+ ($reason)}"
}

# Sums passed/failed/skipped over every XML report (and the native checks) and prints the closing line CI reads.
summarize_tests() {
  local passed=0 failed=0 skipped=0 reports=0 line
  for report in "$results_dir"/*.xml; do
    [ -f "$report" ] || continue
    reports=$((reports + 1))
    line=$(grep -o '<assembly [^>]*>' "$report" | head -n 1)
    passed=$((passed + $(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$line")))
    failed=$((failed + $(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$line")))
    failed=$((failed + $(sed -n 's/.* errors="\([0-9]*\)".*/\1/p' <<<"$line")))
    skipped=$((skipped + $(sed -n 's/.* skipped="\([0-9]*\)".*/\1/p' <<<"$line")))
  done
  passed=$((passed + native_passed)) failed=$((failed + native_failed)) skipped=$((skipped + native_skipped))
  if [ "$reports" -eq 0 ] || [ $((passed - native_passed + failed - native_failed)) -eq 0 ]; then
    echo "no test results were produced" >&2
    echo "$passed passed, $((failed + 1)) failed, $skipped skipped"
    return 1
  fi
  echo "$passed passed, $failed failed, $skipped skipped"
  [ "$failed" -eq 0 ]
}

command=${1:-main}
case "$command" in
  main)
    build
    dotnet run --project "$perf_project" -c "$configuration" --no-build -- compare
    ;;
  test)
    build
    rm -rf "$results_dir"
    native_checks
    run_tests all
    emulated_gpu_tests
    # ImageSharp-style reruns: the Auto variant with the wider ISAs switched off in the runtime itself.
    DOTNET_EnableAVX2=0 run_tests no-avx2 -class Attention.Native.Tests.CpuAttentionTests -class Attention.Native.Tests.Gemm.CpuSgemmTests -class Attention.Native.Tests.HalfPrecisionConversionsTests
    DOTNET_EnableHWIntrinsic=0 run_tests no-simd -class Attention.Native.Tests.CpuAttentionTests -class Attention.Native.Tests.Gemm.CpuSgemmTests -class Attention.Native.Tests.HalfPrecisionConversionsTests
    tests_exe=$generator_tests_exe run_tests generators
    # The packed .nupkg in a fresh console app, and a NativeAOT publish of Tests/AotSample (see each run.sh).
    run_check package-smoke Tests/PackageSmoke/run.sh
    run_check aot-sample Tests/AotSample/run.sh
    # The seed's examples on the layers (float64-checked; exit 1 on a wrong result), on the CPU backend.
    run_check seed-sample dotnet run --project Tests/SeedSample -c "$configuration" --no-build -- --cpu
    # The perf tool's files: compare --quick on one shape (Markdown, CSV, PNG charts) and the heatmap PNGs.
    run_check perf-outputs Perf/check-outputs.sh
    # The GPU machine's script, dry: packs .device-pack/ and runs Perf/device/run.sh with no GPU and no system dotnet.
    if device_pack --no-build; then
      device_dry_run
    else
      mkdir -p "$results_dir"
      printf '<assemblies><assembly name="device-pack" total="1" passed="0" failed="1" skipped="0" errors="0" /></assemblies>\n' \
        >"$results_dir/device-dry-run.xml"
    fi
    summarize_tests
    ;;
  bench)
    shift
    build
    dotnet run --project "$perf_project" -c "$configuration" --no-build -- bench --filter "${1:-*}" "${@:2}"
    ;;
  compare)
    shift
    build
    dotnet run --project "$perf_project" -c "$configuration" --no-build -- compare "$@"
    ;;
  seed)
    shift
    dotnet build Tests/SeedSample -c "$configuration" -nologo -v minimal
    dotnet run --project Tests/SeedSample -c "$configuration" --no-build -- "$@"
    ;;
  gemm)
    shift
    build
    dotnet run --project "$perf_project" -c "$configuration" --no-build -- gemm "$@"
    ;;
  ptx)
    ptx
    ;;
  device-pack)
    device_pack
    ;;
  *)
    echo "usage: ./build.sh [test | bench [filter] | compare [options] | gemm [options] | seed | ptx | device-pack]" >&2
    exit 2
    ;;
esac
