#!/usr/bin/env bash
# Attention.Native build entry point.
#   ./build.sh              build (Release), then run the main job: the GPU-vs-CPU comparison on every backend present
#   ./build.sh test         build and run every test; ends with "N passed, N failed, N skipped"
#   ./build.sh bench [f]    BenchmarkDotNet suite (optional filter, e.g. '*Decode*')
#   ./build.sh compare ...  the comparison command with your own options (see --help)
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

# Sums passed/failed/skipped over every XML report and prints the closing line CI reads.
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
  if [ "$reports" -eq 0 ] || [ $((passed + failed)) -eq 0 ]; then
    echo "no test results were produced" >&2
    echo "0 passed, 1 failed, 0 skipped"
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
    run_tests all
    # ImageSharp-style reruns: the Auto variant with the wider ISAs switched off in the runtime itself.
    DOTNET_EnableAVX2=0 run_tests no-avx2 -class Attention.Native.Tests.CpuAttentionTests
    DOTNET_EnableHWIntrinsic=0 run_tests no-simd -class Attention.Native.Tests.CpuAttentionTests
    tests_exe=$generator_tests_exe run_tests generators
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
  *)
    echo "usage: ./build.sh [test | bench [filter] | compare [options]]" >&2
    exit 2
    ;;
esac
