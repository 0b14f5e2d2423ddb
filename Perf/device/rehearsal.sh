#!/usr/bin/env bash
# Rehearses Perf/device/run.sh here, against the emulated device (Native/emulation/device), as the GPU machine will
# run it: from the .device-pack/ that pack.sh made, with the system dotnet hidden (hide-dotnet.sh), the emulated
# libcuda.so.1 as the driver and a stand-in nvidia-smi (rehearsal/nvidia-smi) so that run.sh takes its GPU path. Two
# runs, each on its own budget (run.sh cuts every step to its share of it):
#   with-torch  a stand-in torch package (rehearsal/torch: torch's API, no arithmetic) and the emulated cuBLAS in a
#               fake site-packages as nvidia/cu13/lib/libcublas.so.13, where run.sh must find it as it finds
#               PyTorch's; the pack's Attention.Native.dll carries two planted faults: the entry attention_mma_d64_bf16
#               renamed (one head-dim bucket missing) and an unknown instruction in attention_mma_tf32.ptx (a module
#               the JIT rejects);
#   no-python   no python at all (DEVICE_PYTHON empty); cuBLAS only through ATTENTION_NATIVE_CUBLAS, under a file name
#               the loader would never try; the pack as built.
# Then checks what each run wrote: all 7 files; the planted faults as failed rows (modules.csv, bench.csv, sweep.csv)
# and no other failed row there; every kernel variant timed; torch's rows; where cuBLAS was loaded from.
# Usage: rehearsal.sh [folder]  (the with-torch run's files, and no-python/report.md, are copied there)
# REHEARSAL_BUDGET_SECONDS: the with-torch run's budget (220; no-python gets half). Exit 0 when every check passes, 1
# otherwise, 77 ("skipped: ...") where the emulated device cannot be built. ./build.sh device-rehearsal packs, then runs it.
set -uo pipefail
cd "$(dirname "$0")/../.."
source Perf/device/hide-dotnet.sh
keep=${1:-}
budget=${REHEARSAL_BUDGET_SECONDS:-220}
emulated=artifacts/cuda-emulation
start=$SECONDS
failed=0

fail() { echo "FAIL rehearsal: $*" >&2; failed=$((failed + 1)); }

[ -f .device-pack/manifest.txt ] || { echo "rehearsal: no .device-pack (run ./build.sh device-pack first)" >&2; exit 1; }
bash Native/check.sh emulated-device "$emulated"
case $? in
  0) ;;
  77) echo "skipped: the emulated device cannot be built here (Native/check.sh emulated-device)"; exit 77 ;;
  *) echo "rehearsal: the emulated device does not build" >&2; exit 1 ;;
esac

tmp=$(mktemp -d "$PWD/artifacts/device-rehearsal.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/driver" "$tmp/bin" "$tmp/site/nvidia/cu13/lib" "$tmp/override" "$tmp/pack" "$tmp/unpacked"
ln -s "$PWD/$emulated/libcuda.so.1" "$tmp/driver/libcuda.so.1"
cp Perf/device/rehearsal/nvidia-smi "$tmp/bin/"
cp -r Perf/device/rehearsal/torch "$tmp/site/"
cp "$emulated/libcublas.so.13" "$tmp/site/nvidia/cu13/lib/libcublas.so.13"
cp "$emulated/libcublas.so.13" "$tmp/override/libcublas-rehearsal-override.so"
path=$(hide_dotnet "$tmp/bin")

# The planted pack: both builds' Attention.Native.dll patched in place (same length: only the embedded PTX changes).
plant() { # plant <dll>
  perl -0777 -pi -e '$n = s/attention_mma_d64_bf16/attention_mma_d64_bfXX/g;
    $m = s/(\.entry attention_mma_d\d+_f32\(.*?)ex2\.approx/$1ex3.approx/s;
    die "planted $n renames and $m unknown instructions\n" unless $n > 0 && $m == 1' "$1"
}
cp .device-pack/runtime.tar.xz .device-pack/kernel-report.csv "$tmp/pack/"
for part in tests perf; do
  mkdir -p "$tmp/unpacked/$part"
  xz -dc ".device-pack/$part.tar.xz" | tar -xf - -C "$tmp/unpacked/$part" &&
    plant "$tmp/unpacked/$part/Attention.Native.dll" &&
    tar -C "$tmp/unpacked/$part" -cf - . | xz -T0 -0 >"$tmp/pack/$part.tar.xz" || { fail "planting $part"; exit 1; }
done
(cd "$tmp/pack" && sha256sum runtime.tar.xz tests.tar.xz perf.tar.xz kernel-report.csv >SHA256SUMS)
{
  cat .device-pack/manifest.txt
  echo "rehearsal: planted in Attention.Native.dll: entry attention_mma_d64_bf16 renamed attention_mma_d64_bfXX; the first ex2.approx of the first f32 entry of attention_mma_tf32.ptx -> ex3.approx"
} >"$tmp/pack/manifest.txt"

# The test classes each run takes (DEVICE_TEST_FILTER): a few, the emulated device being slow. with-torch's include
# CudaAttentionTests, which outlasts its share on the emulated device (interrupted, its finished tests kept).
classes() { local c; for c in "$@"; do printf -- '-class Attention.Native.Tests.%s ' "$c"; done; }
with_torch_tests=$(classes Api.BackendSelectionTests Cuda.CudaAttentionTests Cuda.CudaAvailabilityTests Cuda.CudaErrorTests \
  Cuda.ModuleSlotTests Cuda.NativeLibraryResolverTests Cuda.PtxResourceTests)
no_python_tests=$(classes Cuda.CudaAvailabilityTests Cuda.CudaErrorTests Cuda.NativeLibraryResolverTests)

rehearse() { # rehearse <name> <budget> <pack> [VAR=value...]: runs run.sh; its status in $tmp/<name>.status
  local name=$1 seconds=$2 pack=$3 t0=$SECONDS status=0
  shift 3
  echo "== rehearsal $name: budget ${seconds}s, OUT=$tmp/$name"
  # 600 cases: enough to cover every feature the sweep requires; each pass runs what its limit allows.
  env -u DOTNET_ROOT -u ATTENTION_NATIVE_CUBLAS PATH="$path" OUT="$tmp/$name" DEVICE_PACK="$pack" \
    DEVICE_BUDGET_SECONDS="$seconds" DEVICE_SHAPES=Perf/device/shapes-emulated.json DEVICE_SWEEP_CASES=600 \
    LD_LIBRARY_PATH="$tmp/driver" "$@" bash Perf/device/run.sh >/dev/null || status=$?
  echo "$status" >"$tmp/$name.status"
  echo "== rehearsal $name: run.sh exited $status after $((SECONDS - t0)) s"
  tail -n 40 "$tmp/$name/run.log"
}

# rows <file> <pattern>: the CSV lines (header and # lines aside) matching an extended regex
rows() { grep -v '^#' "$1" | tail -n +2 | grep -E "$2"; }

check_files() { # check_files <out>
  local f
  for f in report.md run.log modules.csv torch.csv bench.csv tests.xml sweep.csv; do
    [ -s "$1/$f" ] || fail "$(basename "$1"): $f was not written"
  done
  grep -q '<assembly ' "$1/tests.xml" || fail "$(basename "$1"): tests.xml holds no test class"
  grep -q '^| pack matches the sources | ok |' "$1/report.md" || fail "$(basename "$1"): the pack is stale (./build.sh device-pack)"
  grep -q '^| gpu-modules: JIT every kernel module | ' "$1/report.md" || fail "$(basename "$1"): gpu-modules did not run"
  grep -q '^| tests: GPU classes, one process each | .* | tests: [0-9]* gpu class(es), one process each: ' "$1/report.md" ||
    fail "$(basename "$1"): the GPU test step has no summary note"
}

rehearse with-torch "$budget" "$tmp/pack" PYTHONPATH="$tmp/site" DEVICE_PYTHON=python3 DEVICE_TEST_FILTER="$with_torch_tests"
out=$tmp/with-torch
check_files "$out"
[ "$(cat "$tmp/with-torch.status")" = 1 ] || fail "with-torch: run.sh exited $(cat "$tmp/with-torch.status"), not 1 (its planted faults fail steps)"
grep -q "cuBLAS: $tmp/site/nvidia/cu13/lib/libcublas.so.13, from python3's site-packages" "$out/run.log" ||
  fail "with-torch: run.sh did not find cuBLAS in the fake site-packages"
rows "$out/modules.csv" '^library,cublas,ok,.*/site/nvidia/cu13/lib/libcublas\.so\.13' >/dev/null ||
  fail "with-torch: cuBLAS was not loaded from the fake site-packages (modules.csv)"
rows "$out/modules.csv" '^attention_mma\.ptx,attention_mma_d64_bf16,error,' >/dev/null || fail "with-torch: no failed row for the missing entry"
rows "$out/modules.csv" '^attention_mma_tf32\.ptx,,error,.*ex3\.approx' >/dev/null || fail "with-torch: no failed row for the module the JIT rejects"
[ "$(rows "$out/modules.csv" ',error,' | wc -l)" = 2 ] || fail "with-torch: modules.csv has failed rows besides the two planted ones"
for ptx in attention_mma attention_splitkv attention_simt; do
  rows "$out/modules.csv" "^$ptx\.ptx,${ptx}_[a-z0-9_]+,ok," >/dev/null || fail "with-torch: no entry of $ptx.ptx loaded"
done
rows "$out/bench.csv" 'tiny-l64-d64-(full|causal)-bf16,.*,error: .*attention_mma_d64_bf16' >/dev/null ||
  fail "with-torch: bench.csv has no failed row for the planted entry"
rows "$out/bench.csv" ',error' | grep -v attention_mma_d64_bf16 && fail "with-torch: bench.csv has failed rows besides the planted entry's"
# The last two columns: kernel, entry.
for kernel in 'auto \((mma|splitkv)\)' simt; do
  rows "$out/bench.csv" ",ok,.*,$kernel,[^,]+\$" >/dev/null || fail "with-torch: gpu-bench timed nothing on $kernel"
done
for kernel in mma splitkv; do # auto times their shapes; the forced variants say "same as auto" there
  rows "$out/bench.csv" ",(ok|same as auto),.*,$kernel,[^,]*\$" >/dev/null || fail "with-torch: gpu-bench has no $kernel row"
done
# The emulated device reports compute capability 9.0: auto or the forced hopper variant times the Hopper kernel.
rows "$out/bench.csv" ",ok,.*,(hopper|auto \(hopper\)),attention_hopper[a-z0-9_]*\$" >/dev/null ||
  fail "with-torch: gpu-bench timed nothing on the Hopper kernel"
rows "$out/bench.csv" ",(ok|same as auto|unsupported[^,]*),.*,hopper,[^,]*\$" >/dev/null || fail "with-torch: gpu-bench has no hopper row"
# The backward rows: timed with their middle kernel as the entry; torch's stand-in has no autograd and says so.
rows "$out/bench.csv" "^tiny-bwd-[^,]*,.*,ok,.*,auto \((mma|simt)\),attention_backward_(mma|simt)_[a-z0-9_]+\$" >/dev/null ||
  fail "with-torch: gpu-bench timed no backward row on auto"
rows "$out/bench.csv" "^tiny-bwd-[^,]*,.*,ok,.*,simt,attention_backward_simt_[a-z0-9_]+\$" >/dev/null ||
  fail "with-torch: gpu-bench timed no backward row on simt"
# The 8-bit decode rows: timed on their split-KV entries, with their K/V format; torch_sdpa.py skips them.
for kv in int8:i8 e4m3:e4m3; do
  rows "$out/bench.csv" "^tiny-decode-[a-z0-9-]*,.*,ok,.*,${kv%%:*},auto \(splitkv\),attention_splitkv_partial_${kv##*:}_[a-z0-9]+\+attention_splitkv_merge_[a-z0-9]+\$" >/dev/null ||
    fail "with-torch: gpu-bench timed no ${kv%%:*} decode row"
done
rows "$out/torch.csv" '^tiny-decode-(int8|e4m3)' && fail "with-torch: torch.csv has 8-bit decode rows"
rows "$out/torch.csv" '^tiny-bwd-[^,]*,.*,torch-flash,not measured: ' >/dev/null ||
  fail "with-torch: torch.csv does not say the stand-in's backward rows are not measured"
rows "$out/sweep.csv" ',fail,' | grep -v attention_mma_d64_bf16 && fail "with-torch: sweep.csv has failed cases besides the planted entry's"
for kernel in auto simt; do
  rows "$out/sweep.csv" ",pass,.*,$kernel\$" >/dev/null || fail "with-torch: the sweep passed no case on $kernel"
done
# One seed, one set of cases: every sweep process (one per variant) must draw the same ones.
[ "$(grep -c '^sweep: coverage' "$out/run.log")" -ge 2 ] && [ "$(grep '^sweep: coverage' "$out/run.log" | sort -u | wc -l)" = 1 ] ||
  fail "with-torch: the sweep processes drew different cases from one seed (or fewer than two ran)"
rows "$out/torch.csv" ',torch-flash,ok' >/dev/null || fail "with-torch: torch.csv has no timed torch-flash row"
grep -q 'attention_mma_d64_bf16' "$out/report.md" && grep -q '^Failed rows' "$out/report.md" ||
  fail "with-torch: report.md does not show the planted failure"
# The join of each timed row with its entry's static metrics (the pack's kernel-report.csv) and the JIT's registers.
for entry in 'attention_mma_d[0-9]+_(f16|bf16)' 'attention_splitkv_partial_[a-z0-9]+ \+ attention_splitkv_merge_[a-z0-9]+' 'attention_simt_[a-z0-9]+'; do
  grep -Eq "^\| [^|]+ \| [^|]+ \| [^|]+ \| [^|]+ \| $entry \| ok \| [0-9.]+ \| [0-9]+ \| [0-9]+ \| (\*\*)?[0-9]+" "$out/report.md" ||
    fail "with-torch: report.md joins no timed $entry row with its static metrics and JIT registers"
done

rehearse no-python $((budget / 2)) .device-pack DEVICE_PYTHON= DEVICE_TEST_FILTER="$no_python_tests" \
  ATTENTION_NATIVE_CUBLAS="$tmp/override/libcublas-rehearsal-override.so"
out=$tmp/no-python
check_files "$out"
grep -q '| torch SDPA baseline | not run: no python |' "$out/report.md" || fail "no-python: the torch step is not reported as not run"
rows "$out/modules.csv" '^library,cublas,ok,.*libcublas-rehearsal-override\.so' >/dev/null ||
  fail "no-python: cuBLAS was not loaded through ATTENTION_NATIVE_CUBLAS"
rows "$out/modules.csv" ',error,' && fail "no-python: modules.csv has failed rows"
rows "$out/bench.csv" ',error' && fail "no-python: bench.csv has failed rows"
rows "$out/bench.csv" ',ok,' >/dev/null || fail "no-python: gpu-bench timed nothing"
rows "$out/sweep.csv" ',fail,' && fail "no-python: sweep.csv has failed cases"

seconds=$((SECONDS - start))
[ "$seconds" -lt 480 ] || fail "the rehearsal took ${seconds}s (limit 480 s)"
if [ -n "$keep" ]; then
  mkdir -p "$keep/no-python"
  cp "$tmp"/with-torch/{report.md,run.log,modules.csv,torch.csv,bench.csv,tests.xml,sweep.csv} "$keep/"
  cp "$tmp/no-python/report.md" "$keep/no-python/report.md"
  echo "rehearsal: copied the with-torch run's files and no-python/report.md to $keep"
fi
if [ "$failed" -gt 0 ]; then
  echo "FAIL device rehearsal: $failed check(s) failed in ${seconds}s (the runs' files: $tmp, kept)" >&2
  trap - EXIT
  exit 1
fi
echo "== device rehearsal passed in ${seconds}s (budget ${budget}s + $((budget / 2))s)"
