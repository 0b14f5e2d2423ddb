#!/usr/bin/env bash
# Attention.Native build entry point.
#   ./build.sh              build (Release), then run the main job: the GPU-vs-CPU comparison on every backend present
#   ./build.sh test         build and run every test; ends with "N passed, N failed, N skipped"
#                           (ATTENTION_NATIVE_ACCEPT_API=1: approve a changed public API and regenerate README's overview;
#                           ATTENTION_NATIVE_TEST_SEED=<int>: other random data, mixed into each test's own fixed seed)
#   ./build.sh bench [f]    BenchmarkDotNet suite (optional filter, e.g. '*Decode*')
#   ./build.sh compare ...  the comparison command with your own options (see --help)
#   ./build.sh seed         the seed's examples on the layers (Tests/SeedSample): SelfAttention [32, 64, 512], 我 是 一只 狗
#   ./build.sh embed "a" .. all-MiniLM-L6-v2 sentence embeddings on the layers beside ONNX Runtime's (Tests/EmbeddingSample;
#                           --cpu, --cuda, --half, --threads N); the perf tool's embed-bench times both
#   ./build.sh train        a toy encoder-decoder trained on the layers' backward: loss, PNGs (docs/training.md)
#   ./build.sh gemm ...     the CPU SGEMM table: GFLOP/s and % of the FMA peak measured in the same run, error vs
#                           float64 (options --threads, --shapes, --variants, --quick, --out; see gemm --help)
#   ./build.sh ptx          regenerate the committed PTX (Native/*.cu -> Native/*.ptx) with nvcc (Native/check.sh ptx)
#   ./build.sh kernel-report [dir]  each kernel entry's static metrics per arch (registers, spills, shared memory,
#                           CTAs per SM on an H100/H200, LDSM/LDGSTS per HMMA and barriers per loop iteration) and its
#                           kernel-target results; with dir also kernel-report.txt/.csv there (Native/check.sh)
#   ./build.sh device-pack  pack .device-pack/ for the GPU machine (Perf/device/pack.sh): a .NET runtime and the built
#                           tests and perf tool (Perf/device/README.md: carry it and run `bash Perf/device/run.sh` there)
#   ./build.sh device-rehearsal [folder]  device-pack, then Perf/device/rehearsal.sh: run.sh on the emulated device,
#                           with and without (stand-in) torch and with planted bad PTX; under 8 minutes
#
# `test` writes one xunit-style report per step into artifacts/test-results/ and sums them:
#   native.xml          Native/check.sh check: the committed PTX is current, ptxas spills, SASS opcodes, kernel targets,
#                       emulations
#   all.xml             every test of Tests/Attention.Native.Tests
#   emulated-gpu.xml    its [Trait("Device", "Cuda")] classes again on the emulated device (Native/check.sh
#                       emulated-device: libcuda.so.1 and libcublas.so.13 first on LD_LIBRARY_PATH)
#   no-avx2.xml, no-simd.xml   its [Trait("Isa", "Rerun")] classes with AVX2 / every hardware intrinsic switched off
#   generators.xml      Tests/Attention.Native.Generators.Tests
#   embedding.xml, emulated-embedding.xml   Tests/EmbeddingSample.Tests against ONNX Runtime; its Device=Cuda tests on
#                       the emulated device
#   integration.xml     Tests/Attention.Native.IntegrationTests ([Trait("Category", "Integration")]): the packed
#                       package, NativeAOT, the seed sample, the perf tool's files, the device pack's dry run and
#                       its rehearsal on the emulated device
# The same tests under `dotnet test` (Microsoft.Testing.Platform, chosen in global.json): all three projects with
# `dotnet test --solution Attention.Native.sln -c Release`. Traits filter as `--filter-trait Isa=Rerun` and
# `--filter-not-trait Category=Integration` there (`-trait Isa=Rerun`, `-trait- Category=Integration` on the xunit v3
# executables), e.g. the no-avx2 step:
#   DOTNET_EnableAVX2=0 dotnet test --project Tests/Attention.Native.Tests -c Release --filter-trait Isa=Rerun
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! command -v dotnet >/dev/null 2>&1; then
  echo "build.sh: the .NET 10 SDK (dotnet) is required and was not found on PATH." >&2
  exit 2
fi

configuration=Release
perf_project=Perf/Attention.Native.Perf/Attention.Native.Perf.csproj
results_dir=artifacts/test-results
emulated_device_dir=artifacts/cuda-emulation
test_exe() { echo "Tests/$1/bin/$configuration/net10.0/$1"; }

build() {
  dotnet build Attention.Native.sln -c "$configuration" -nologo -v minimal
}

# Runs an xunit v3 test executable once; its report goes to $results_dir/<name>.xml.
run_tests() { # run_tests <name> <executable> [xunit options...]
  local name=$1 exe=$2
  shift 2
  mkdir -p "$results_dir"
  echo "== tests: $name $*"
  "$exe" -noColor -result-xml "$results_dir/$name.xml" "$@" || true
  expect_report "$name" "$exe"
}

# A step that could not run, as a report of one test: skipped or failed, saying why.
report_one() { # report_one <name> <Skip|Fail> <why>
  local skipped=0 failed=0
  if [ "$2" = Skip ]; then skipped=1; else failed=1; fi
  mkdir -p "$results_dir"
  printf '<assemblies><assembly name="%s" total="1" passed="0" failed="%d" skipped="%d" errors="0"><collection name="%s"><test name="%s" result="%s"><reason><![CDATA[%s]]></reason></test></collection></assembly></assemblies>\n' \
    "$1" "$failed" "$skipped" "$1" "$1" "$2" "$3" >"$results_dir/$1.xml"
  echo "== $1: $2: $3"
}

expect_report() { # expect_report <name> <what should have written it>
  [ -s "$results_dir/$1.xml" ] || report_one "$1" Fail "$2 wrote no report"
}

# Sums passed/failed (errors count as failed)/skipped over every report and prints the closing line CI reads.
summarize_tests() {
  local passed=0 failed=0 skipped=0 report line
  count() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$line" | grep . || echo 0; }
  for report in "$results_dir"/*.xml; do
    [ -f "$report" ] || continue
    line=$(grep -o '<assembly [^>]*>' "$report" | head -n 1)
    passed=$((passed + $(count passed))) skipped=$((skipped + $(count skipped)))
    failed=$((failed + $(count failed) + $(count errors)))
  done
  if [ $((passed + failed)) -eq 0 ]; then
    echo "no test results were produced" >&2
    failed=$((failed + 1))
  fi
  echo "$passed passed, $failed failed, $skipped skipped"
  [ "$failed" -eq 0 ]
}

run_all_tests() {
  local tests status=0
  tests=$(test_exe Attention.Native.Tests)
  build
  rm -rf "$results_dir"
  bash Native/check.sh check "$results_dir/native.xml" || true
  expect_report native Native/check.sh
  run_tests all "$tests"
  bash Native/check.sh emulated-device "$emulated_device_dir" || status=$?
  case $status in
    0) LD_LIBRARY_PATH="$PWD/$emulated_device_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
         run_tests emulated-gpu "$tests" -trait "Device=Cuda"
       LD_LIBRARY_PATH="$PWD/$emulated_device_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
         run_tests emulated-embedding "$(test_exe EmbeddingSample.Tests)" -trait "Device=Cuda" ;;
    77) report_one emulated-gpu Skip "the emulated device needs a C++20 compiler and the CUDA toolkit's headers" ;;
    *) report_one emulated-gpu Fail "the emulated device does not build (Native/check.sh emulated-device)" ;;
  esac
  # ImageSharp-style reruns: the Auto variant with the wider ISAs switched off in the runtime itself.
  DOTNET_EnableAVX2=0 run_tests no-avx2 "$tests" -trait "Isa=Rerun"
  DOTNET_EnableHWIntrinsic=0 run_tests no-simd "$tests" -trait "Isa=Rerun"
  run_tests generators "$(test_exe Attention.Native.Generators.Tests)"
  run_tests embedding "$(test_exe EmbeddingSample.Tests)" -trait- "Device=Cuda"
  run_tests integration "$(test_exe Attention.Native.IntegrationTests)"
  summarize_tests
}

command=${1:-main}
[ $# -eq 0 ] || shift
case "$command" in
  main) build && dotnet run --project "$perf_project" -c "$configuration" --no-build -- compare ;;
  test) run_all_tests ;;
  bench) build && dotnet run --project "$perf_project" -c "$configuration" --no-build -- bench --filter "${1:-*}" "${@:2}" ;;
  compare | gemm) build && dotnet run --project "$perf_project" -c "$configuration" --no-build -- "$command" "$@" ;;
  seed | embed | train)
    case $command in seed) sample=Tests/SeedSample ;; embed) sample=Tests/EmbeddingSample ;; *) sample=Tests/TrainSample ;; esac
    dotnet build "$sample" -c "$configuration" -nologo -v minimal
    dotnet run --project "$sample" -c "$configuration" --no-build -- "$@"
    ;;
  ptx) bash Native/check.sh ptx ;;
  kernel-report) bash Native/check.sh kernel-report "$@" ;;
  device-pack) build && CONFIGURATION=$configuration bash Perf/device/pack.sh ;;
  device-rehearsal) build && CONFIGURATION=$configuration bash Perf/device/pack.sh && bash Perf/device/rehearsal.sh "$@" ;;
  *)
    echo "usage: ./build.sh [test | bench [filter] | compare [options] | gemm [options] | seed | embed [text...] | train | ptx | kernel-report [dir] | device-pack | device-rehearsal [folder]]" >&2
    exit 2
    ;;
esac
