#!/usr/bin/env bash
# The GPU machine's one command (Perf/device/README.md): `bash Perf/device/run.sh`, with .device-pack/ carried.
#
# Unpacks the .NET runtime and the built tests and perf tool from .device-pack/ (./build.sh device-pack), prints the
# machine, runs the GPU test classes, the correctness sweep (CUDA vs CPU vs float64), the CUDA benchmark and PyTorch
# SDPA's on the same shapes, then the rest of the test suite, and writes $OUT/report.md with the raw logs beside it:
#   report.md run.log tests-gpu.xml tests-rest.xml sweep.csv bench.csv torch.csv     (7 files: the device returns 8)
# Each step has a time limit and its failure is recorded, not fatal; the steps stay within DEVICE_BUDGET_SECONDS
# (440 s; a step is cut to what is left, and one with under 10 s left is not run) plus the report (at most 40 s), so
# the whole run ends within 8 minutes (about 7 expected on an H200: see Perf/device/README.md's table). Exit code 0 when every step passed, 1 otherwise; the report is written either way.
#
# Dry run: with DEVICE_DRY_RUN=1, or where nvidia-smi finds no GPU, every step runs up to where a GPU is needed (the
# runtime unpacks and starts, GPU tests skip with their reason, the sweep and gpu-bench run their --dry-run, the torch
# script reports torch or the device missing) and the report is written. `./build.sh test` runs it that way.
set -u

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo" || exit 2
OUT=${OUT:-$repo/artifacts/device-out}
mkdir -p "$OUT" || exit 2
pack=${DEVICE_PACK:-$repo/.device-pack}
budget=${DEVICE_BUDGET_SECONDS:-440}
# Inside the repository: some tests look for the repository (Native/README.md) above their own folder.
mkdir -p "$repo/artifacts" || exit 2
work=$(mktemp -d "$repo/artifacts/device-run.XXXXXX") || exit 2
steps=$work/steps.tsv
machine=$work/machine.txt
start=$SECONDS
failures=0

if [ "${DEVICE_DRY_RUN:-0}" = 1 ]; then
  dry="DEVICE_DRY_RUN=1"
elif ! command -v nvidia-smi >/dev/null 2>&1; then
  dry="no nvidia-smi on PATH"
elif ! nvidia-smi -L >/dev/null 2>&1; then
  dry="nvidia-smi finds no GPU"
else
  dry=""
fi

# Unpacks a tar.xz with xz, or with Python's tarfile where the image has no xz.
extract() { # extract <archive> <folder>
  mkdir -p "$2" || return 1
  if command -v xz >/dev/null 2>&1; then
    xz -dc "$1" | tar -xf - -C "$2"
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import sys, tarfile
kw = {"filter": "tar"} if hasattr(tarfile, "data_filter") else {}
tarfile.open(sys.argv[1]).extractall(sys.argv[2], **kw)' "$1" "$2"
  else
    echo "neither xz nor python3 is here to unpack $1" >&2
    return 1
  fi
}

unpack() {
  [ -f "$pack/manifest.txt" ] || { echo "$pack/manifest.txt is missing: run ./build.sh device-pack and carry .device-pack" >&2; return 1; }
  sed 's/^/  /' "$pack/manifest.txt"
  (cd "$pack" && sha256sum -c SHA256SUMS) || return 1
  extract "$pack/runtime.tar.xz" "$work/dotnet" &&
    extract "$pack/tests.tar.xz" "$work/tests" &&
    extract "$pack/perf.tar.xz" "$work/perf" || return 1
  "$work/dotnet/dotnet" --list-runtimes
}

# Whether .device-pack was built from the sources here (Perf/device/source-hash.sh on both ends).
same_sources() {
  local packed here
  packed=$(sed -n 's/^source-sha256: //p' "$pack/manifest.txt")
  here=$(bash Perf/device/source-hash.sh)
  echo "pack built from $packed; sources here $here"
  if [ "$packed" != "$here" ]; then
    echo "STALE PACK: .device-pack was built from other sources than this tree; run ./build.sh device-pack again" >&2
    return 1
  fi
}

describe_machine() {
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host: $(uname -srm), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null) memory"
  echo "mode: $mode"
  echo "dotnet: $(command -v dotnet) ($(dotnet --list-runtimes 2>&1 | head -n 1))"
  if command -v python3 >/dev/null 2>&1; then
    echo "python3: $(python3 --version 2>&1), torch: $(python3 -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda)' 2>&1 | tail -n 1)"
  else
    echo "python3: absent"
  fi
  sed 's/^/pack /' "$pack/manifest.txt" 2>/dev/null
  if [ -z "$dry" ]; then
    echo
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,clocks.mem,power.draw,power.limit,temperature.gpu,persistence_mode --format=csv
    echo
    nvidia-smi
  else
    echo "nvidia-smi: not run: no GPU ($dry)"
  fi
}
export -f extract unpack same_sources describe_machine
if [ -n "$dry" ]; then mode="dry run, no GPU ($dry)"; else mode="GPU run"; fi
export pack work dry mode

record() { # record <step> <result> <seconds> [note]
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:-}" >>"$steps"
}

# Runs one step under `timeout`, within what is left of the budget; records how it went and carries on.
step() { # step <name> <limit seconds> <command> [args...]
  local name=$1 cap=$2 left limit t0 rc result
  shift 2
  left=$((budget - (SECONDS - start)))
  if [ "$left" -lt 10 ]; then
    echo "=== $name: not run (time budget of ${budget}s spent)"
    record "$name" "not run: time budget" 0
    failures=$((failures + 1))
    return
  fi
  limit=$((cap < left ? cap : left))
  echo
  echo "=== $name (limit ${limit}s, $((SECONDS - start))s into the run)"
  t0=$SECONDS
  timeout -k 10 "$limit" "$@"
  rc=$?
  case $rc in
    0) result=ok ;;
    124 | 137) result="timed out after ${limit}s" ;;
    *) result="failed (exit $rc)" ;;
  esac
  [ "$rc" -eq 0 ] || failures=$((failures + 1))
  echo "=== $name: $result in $((SECONDS - t0))s"
  record "$name" "$result" $((SECONDS - t0))
}

not_run() { # not_run <step> <why>
  echo
  echo "=== $1: not run ($2)"
  record "$1" "not run: $2" 0
}

main() {
  echo "Perf/device/run.sh: $mode; OUT=$OUT; budget ${budget}s"
  step "unpack .device-pack" 120 bash -c unpack
  export DOTNET_ROOT=$work/dotnet
  export PATH=$DOTNET_ROOT:$PATH
  export DOTNET_gcServer=0 DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
  export PYTHONUNBUFFERED=1
  local dotnet=$DOTNET_ROOT/dotnet tests=$work/tests/Attention.Native.Tests.dll perf=$work/perf/Attention.Native.Perf.dll
  step "pack matches the sources" 60 bash -c same_sources
  describe_machine >"$machine" 2>&1
  if [ -z "$dry" ]; then
    step "nvidia-smi" 30 nvidia-smi
  else
    not_run "nvidia-smi" "no GPU: $dry"
  fi

  # The test classes that need a device carry [Trait("Device", "Cuda")].
  local gpu_classes=(-trait 'Device=Cuda')
  local other_classes=(-trait- 'Device=Cuda')
  step "tests: GPU classes" 150 "$dotnet" "$tests" -noColor -result-xml "$OUT/tests-gpu.xml" "${gpu_classes[@]}"

  # Every CUDA kernel variant: the backend's choice (auto) and each kernel forced (ATTENTION_NATIVE_CUDA_KERNEL).
  local sweep=(--cases 500 --budget-seconds 100) bench=() torch=()
  if [ -n "$dry" ]; then
    sweep=(--cases 600 --dry-run) bench=(--dry-run) torch=(--dry-run)
  fi
  step "sweep: CUDA vs CPU vs float64" 130 "$dotnet" "$perf" sweep "${sweep[@]}" --kernels auto,simt,splitkv,mma \
    --out "$OUT/sweep.csv"
  step "gpu-bench: CUDA backend" 140 "$dotnet" "$perf" gpu-bench --shapes Perf/device/shapes.json --budget-seconds 110 \
    --kernels auto,simt,splitkv,mma "${bench[@]}" --out "$OUT/bench.csv"
  # --- layers (issue 3): MultiHeadAttention, KeyValueCache, AdditiveAttention on CUDA vs the CPU; time split ---
  step "gpu-layers: layers on CUDA vs CPU" 60 "$dotnet" "$perf" gpu-layers ${dry:+--dry-run}
  # --- end layers ---
  if command -v python3 >/dev/null 2>&1; then
    step "torch SDPA benchmark" 100 python3 Perf/device/torch_sdpa.py --shapes Perf/device/shapes.json \
      --budget-seconds 70 "${torch[@]}" --out "$OUT/torch.csv"
  else
    not_run "torch SDPA benchmark" "no python3"
  fi
  step "tests: the rest of the suite" 90 "$dotnet" "$tests" -noColor -result-xml "$OUT/tests-rest.xml" "${other_classes[@]}"

  echo
  echo "=== report"
  if ! timeout -k 5 35 "$dotnet" "$perf" device-report --dir "$OUT" --steps "$steps" --machine "$machine" \
    --mode "$mode; $failures step(s) failed" --out "$OUT/report.md"; then
    failures=$((failures + 1))
    # The report tool itself failed: a plain report from the shell, so that there is always one.
    {
      echo "# Attention.Native device run (fallback report: device-report failed)"
      echo
      echo "Mode: $mode. See run.log."
      echo
      echo "## Steps"
      echo
      echo "| step | result | seconds | note |"
      echo "|---|---|---:|---|"
      sed 's/\t/ | /g; s/^/| /; s/$/ |/' "$steps"
      echo
      echo '```text'
      cat "$machine"
      echo '```'
    } >"$OUT/report.md"
  fi

  # The device tool returns the output's tail: end with the parts of the report that matter most.
  echo
  sed -n '/^## Steps/,/^## Machine/p; /^## Tests/,/^## Benchmark/p' "$OUT/report.md" | grep -v '^## Machine\|^## Benchmark'
  echo "Wrote $OUT/report.md ($((SECONDS - start)) s, $failures step(s) failed)."
  [ "$failures" -eq 0 ]
}

set -o pipefail
main 2>&1 | tee "$OUT/run.log"
status=${PIPESTATUS[0]}
rm -rf "$work"
exit "$status"
