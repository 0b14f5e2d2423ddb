#!/usr/bin/env bash
# Packs .device-pack/ for the GPU machine (Perf/device/README.md; `./build.sh device-pack` builds, then runs this).
# The GPU machine has no .NET: .device-pack/ (git-ignored, carried to it by name) holds a .NET runtime taken from this
# SDK install (the dotnet host, its hostfxr and shared/Microsoft.NETCore.App), the framework-dependent builds of the
# tests and the perf tool (CONFIGURATION, Release by default; build them first), the kernels' static metrics
# (kernel-report.csv), a manifest and SHA256SUMS.
# Perf/device/run.sh unpacks and runs them there. Exit 1, saying why, on anything missing or a pack over the limit.
set -uo pipefail
cd "$(dirname "$0")/../.."
configuration=${CONFIGURATION:-Release}
tests_dir=Tests/Attention.Native.Tests
tests_bin=$tests_dir/bin/$configuration/net10.0
perf_bin=Perf/Attention.Native.Perf/bin/$configuration/net10.0
device_pack_dir=.device-pack
device_pack_limit_mib=60
# xz -1 on all cores: 10 s for the runtime on 2 cores, 3 MB more than -6 (which takes a minute); override to squeeze.
device_pack_xz=${DEVICE_PACK_XZ:--T0 -1}

fail() { echo "device-pack: $*" >&2; exit 1; }

# The newest installed Microsoft.NETCore.App of the major version the projects target: "<version> <shared dir>".
dotnet_runtime() {
  dotnet --list-runtimes | sed -n 's/^Microsoft\.NETCore\.App \(10\.[0-9.]*\) \[\(.*\)\]$/\1 \2/p' | sort -V | tail -n 1
}

# tar.xz of folder $1's contents (minus the patterns after $2) into $2, written atomically.
pack_folder() { # pack_folder <folder> <archive> [tar --exclude patterns...]
  local folder=$1 archive=$2
  shift 2
  tar -C "$folder" "${@/#/--exclude=}" -cf - . | xz $device_pack_xz >"$archive.tmp" || return 1
  mv "$archive.tmp" "$archive"
}

[ "$(uname -m)" = x86_64 ] ||
  fail "this machine is $(uname -m); the GPU machine is x86-64, so its runtime cannot come from here"
found=$(dotnet_runtime)
[ -n "$found" ] || fail "no Microsoft.NETCore.App 10.x in 'dotnet --list-runtimes'"
version=${found%% *} shared=${found#* } # shared = <root>/shared/Microsoft.NETCore.App
root=$(dirname "$(dirname "$shared")")
fxr=$(ls "$root/host/fxr" 2>/dev/null | sort -V | tail -n 1)
[ -n "$fxr" ] && [ -x "$root/dotnet" ] && [ -d "$shared/$version" ] ||
  fail "no dotnet host, host/fxr or shared/Microsoft.NETCore.App/$version under $root"
for app in "$tests_bin/Attention.Native.Tests" "$perf_bin/Attention.Native.Perf"; do
  [ -f "$app.dll" ] || fail "$app.dll is missing (build first)"
  # The GPU machine's image may lack ICU: both apps must run with invariant globalization.
  grep -q '"System.Globalization.Invariant": true' "$app.runtimeconfig.json" ||
    fail "$app.runtimeconfig.json lacks System.Globalization.Invariant = true (Directory.Build.props)"
done
grep -aq 'ptx/attention_simt.ptx' "$tests_bin/Attention.Native.dll" ||
  fail "Attention.Native.dll has no embedded ptx/attention_simt.ptx"

mkdir -p "$device_pack_dir"
runtime_id="Microsoft.NETCore.App $version, hostfxr $fxr, from $root"
if [ -f "$device_pack_dir/runtime.tar.xz" ] && [ "$(cat "$device_pack_dir/runtime.id" 2>/dev/null)" = "$runtime_id" ]; then
  echo "device-pack: runtime.tar.xz already holds $runtime_id"
else
  echo "device-pack: packing $runtime_id"
  tar -C "$root" -cf - dotnet "host/fxr/$fxr" "shared/Microsoft.NETCore.App/$version" |
    xz $device_pack_xz >"$device_pack_dir/runtime.tar.xz.tmp" || fail "packing the runtime failed"
  mv "$device_pack_dir/runtime.tar.xz.tmp" "$device_pack_dir/runtime.tar.xz"
  echo "$runtime_id" >"$device_pack_dir/runtime.id"
fi
echo "device-pack: packing the tests and the perf tool"
pack_folder "$tests_bin" "$device_pack_dir/tests.tar.xz" || fail "packing $tests_bin failed"
# BenchmarkDotNet's Windows-only native helpers (x86/, amd64/, arm64/) and every native runtime folder but
# linux-x64 (SkiaSharp/HarfBuzzSharp ship ~20 of them, ~450 MiB) are of no use on the x86-64 Linux GPU machine.
other_runtimes=()
for rid in "$perf_bin"/runtimes/*/; do
  rid=$(basename "$rid")
  [ "$rid" = linux-x64 ] || [ "$rid" = '*' ] || other_runtimes+=("./runtimes/$rid")
done
# The CPU peers' natives (libtorch ~500 MB, ONNX Runtime ~35 MB; compare --peers) are of no use there either: the GPU
# machine's compare reports them as not measured, with the reason.
native=./runtimes/linux-x64/native
cpu_peers=("$native/libtorch*" "$native/libLibTorchSharp.so" "$native/libc10.so" "$native/libgomp-*" "$native/libshm.so"
  "$native/libaoti_custom_ops.so" "$native/libbackend_with_compiler.so" "$native/libjitbackend_test.so"
  "$native/libnnapi_backend.so" "$native/libonnxruntime*")
pack_folder "$perf_bin" "$device_pack_dir/perf.tar.xz" ./x86 ./amd64 ./arm64 "${other_runtimes[@]}" "${cpu_peers[@]}" ||
  fail "packing $perf_bin failed"

# The static metrics of the kernels the pack embeds (Native/check.sh kernel-report of the committed PTX: registers,
# CTAs per SM, LDSM/HMMA, barriers per iteration), which the device report prints beside each benchmark row: the GPU
# machine has no toolkit. Generated here rather than taken from a committed Perf/results/kernel-report-*, which
# describes the PTX of the day it was written; kept while the PTX, the toolkit and the report's scripts are the same
# (it takes a minute or two), so a repacking costs nothing. Without the toolkit the file says why it holds no rows.
kernel_report_id="$( (cat Native/*.ptx Native/kernel_report.awk Native/check.sh; ptxas --version 2>&1) | sha256sum | cut -d' ' -f1)"
if [ -f "$device_pack_dir/kernel-report.csv" ] && [ "$(cat "$device_pack_dir/kernel-report.id" 2>/dev/null)" = "$kernel_report_id" ]; then
  echo "device-pack: kernel-report.csv already describes this PTX"
else
  echo "device-pack: kernel-report.csv (bash Native/check.sh kernel-report of the committed PTX)"
  report_dir=$(mktemp -d)
  bash Native/check.sh kernel-report "$report_dir" >"$report_dir/out.txt" 2>&1
  case $? in
    0) mv "$report_dir/kernel-report.csv" "$device_pack_dir/kernel-report.csv" ;;
    2) echo "# not generated: $(tail -n 1 "$report_dir/out.txt")" >"$device_pack_dir/kernel-report.csv" ;;
    *) cat "$report_dir/out.txt" >&2; rm -rf "$report_dir"; fail "Native/check.sh kernel-report failed" ;;
  esac
  rm -rf "$report_dir"
  echo "$kernel_report_id" >"$device_pack_dir/kernel-report.id"
fi
(cd "$device_pack_dir" && sha256sum runtime.tar.xz tests.tar.xz perf.tar.xz kernel-report.csv >SHA256SUMS) || fail "sha256sum failed"

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
  echo "kernel-report.csv: $(head -n 1 "$device_pack_dir/kernel-report.csv" | grep '^#' || echo "static metrics of the embedded PTX per entry and arch, $(ptxas --version | grep -o 'release [0-9.]*, V[0-9.]*')")"
  echo "globalization: invariant (System.Globalization.Invariant = true in both runtimeconfig.json files)"
  for ptx_file in Native/*.ptx; do
    echo "ptx: embedded in Attention.Native.dll as resource ptx/${ptx_file#Native/} ($ptx_file sha256 $(sha256sum "$ptx_file" | cut -d' ' -f1))"
  done
  echo "total-bytes: $total"
} >"$device_pack_dir/manifest.txt"
ls -l "$device_pack_dir"
echo "device-pack: $device_pack_dir/ holds $((total / 1048576)) MiB ($total bytes) to carry; limit $device_pack_limit_mib MiB"
[ "$total" -lt $((device_pack_limit_mib * 1048576)) ] ||
  fail "FAIL: the pack is over $device_pack_limit_mib MiB (the device tool carries 64 MiB with the tree)"
