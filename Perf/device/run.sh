#!/usr/bin/env bash
# The GPU machine's one command (Perf/device/README.md): `bash Perf/device/run.sh`, with .device-pack/ carried.
#
# Unpacks the .NET runtime and the built tests and perf tool from .device-pack/ (./build.sh device-pack), records the
# machine (nvidia-smi, ldconfig's libcuda and cuBLAS, where cuBLAS is taken from), times PyTorch SDPA first (the
# baseline), loads every kernel module (the driver's JIT info log, registers per entry), runs gpu-bench once per kernel
# variant (auto, then mma and splitkv, then simt), each GPU test class, the correctness sweep once per variant, the
# layers, then the rest of the suite; the report joins each benchmark row with the static metrics of the entry it
# launched (the pack's kernel-report.csv). Each of these runs in its own process, so a fault that poisons a CUDA context
# costs one variant or one class, not the run. $OUT gets 7 files (the device tool returns at most 8):
#   report.md run.log modules.csv torch.csv bench.csv tests.xml sweep.csv
# Nothing is lost to a time limit: the tools append their CSV rows as they go (flushed per row); each test class writes
# its own results, and one cut at its limit is interrupted (SIGINT), which keeps the tests it finished; report.md is
# rendered again after every step. Each step's limit is its share (weights below) of the time left of
# DEVICE_BUDGET_SECONDS, which bounds the whole run, report included. Exit code 0 when every step passed, 1 otherwise.
#
# Settings (Perf/device/rehearsal.sh sets them to rehearse this script on the emulated device):
#   DEVICE_BUDGET_SECONDS  the whole run (420)                 DEVICE_SHAPES       the benchmarks' shapes (Perf/device/shapes.json)
#   DEVICE_SWEEP_CASES     cases per sweep pass (500)          DEVICE_PYTHON       the python that has torch (python3; empty: none)
#   DEVICE_PACK            the pack (.device-pack)             ATTENTION_NATIVE_CUBLAS  cuBLAS's file, else found below
#   DEVICE_TEST_FILTER     xunit filter options added to both test steps, e.g. "-class Attention.Native.Tests.Cuda.CudaErrorTests"
#                          (unset: every class; the rehearsal narrows them to a few, the emulated device being slow)
# Dry run: with DEVICE_DRY_RUN=1, or where nvidia-smi finds no GPU, every step runs up to where a GPU is needed (GPU
# tests skip with their reason, the sweep, gpu-bench and torch script run their --dry-run). `./build.sh test` runs it so.
set -u

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo" || exit 2
OUT=${OUT:-$repo/artifacts/device-out}
pack=${DEVICE_PACK:-$repo/.device-pack}
budget=${DEVICE_BUDGET_SECONDS:-420}
shapes=${DEVICE_SHAPES:-Perf/device/shapes.json}
sweep_cases=${DEVICE_SWEEP_CASES:-500}
read -ra test_filter <<<"${DEVICE_TEST_FILTER:-}" # more xunit filter options for both test steps (none: every class)
python=${DEVICE_PYTHON-python3} # empty: as if there were no python
report_reserve=25 # seconds kept back for the final report
outputs=(report.md run.log modules.csv torch.csv bench.csv tests.xml sweep.csv)
mkdir -p "$OUT" "$repo/artifacts" || exit 2
(cd "$OUT" && rm -f "${outputs[@]}")
# Inside the repository: some tests look for the repository (Native/README.md) above their own folder.
work=$(mktemp -d "$repo/artifacts/device-run.XXXXXX") || exit 2
logs=$work/logs
dotnet=$work/dotnet/dotnet tests=$work/tests-bin/Attention.Native.Tests.dll perf=$work/perf/Attention.Native.Perf.dll
mkdir -p "$logs" "$work/tests"
start=$SECONDS
failures=0

if [ "${DEVICE_DRY_RUN:-0}" = 1 ]; then
  dry="DEVICE_DRY_RUN=1"
elif ! command -v nvidia-smi >/dev/null 2>&1; then
  dry="no nvidia-smi on PATH"
elif ! timeout 30 nvidia-smi -L >/dev/null 2>&1; then
  dry="nvidia-smi finds no GPU"
else
  dry=""
fi
if [ -n "$dry" ]; then mode="dry run, no GPU ($dry)"; else mode="GPU run"; fi

# Unpacks a tar.xz with xz, or with Python's tarfile where the image has no xz.
extract() { # extract <archive> <folder>
  mkdir -p "$2" || return 1
  if command -v xz >/dev/null 2>&1; then
    xz -dc "$1" | tar -xf - -C "$2"
  else
    python3 -c 'import sys, tarfile
kw = {"filter": "tar"} if hasattr(tarfile, "data_filter") else {}
tarfile.open(sys.argv[1]).extractall(sys.argv[2], **kw)' "$1" "$2"
  fi
}

unpack() {
  [ -f "$pack/manifest.txt" ] || { echo "$pack/manifest.txt is missing: run ./build.sh device-pack and carry .device-pack" >&2; return 1; }
  sed 's/^/  /' "$pack/manifest.txt"
  (cd "$pack" && sha256sum -c SHA256SUMS) || return 1
  extract "$pack/runtime.tar.xz" "$work/dotnet" && extract "$pack/tests.tar.xz" "$work/tests-bin" &&
    extract "$pack/perf.tar.xz" "$work/perf" || return 1
  "$work/dotnet/dotnet" --list-runtimes
}

# Whether .device-pack was built from the sources here (Perf/device/source-hash.sh on both ends).
same_sources() {
  local packed here
  packed=$(sed -n 's/^source-sha256: //p' "$pack/manifest.txt")
  here=$(bash Perf/device/source-hash.sh)
  echo "pack built from $packed; sources here $here"
  [ "$packed" = "$here" ] || { echo "STALE PACK: built from other sources than this tree; run ./build.sh device-pack again" >&2; return 1; }
}

# cuBLAS: ATTENTION_NATIVE_CUBLAS when set; else the newest libcublas.so.N in python's site-packages (PyTorch's wheels:
# nvidia/cublas/lib, nvidia/cu13/lib), which is exported as ATTENTION_NATIVE_CUBLAS with its folder first on
# LD_LIBRARY_PATH (cuBLAS loads cublasLt beside it); else one on the loader's path; else a CUDA toolkit's lib64.
find_cublas() {
  local found=""
  if [ -n "${ATTENTION_NATIVE_CUBLAS:-}" ]; then
    echo "cuBLAS: ATTENTION_NATIVE_CUBLAS=$ATTENTION_NATIVE_CUBLAS (set by the caller)"
    found=$ATTENTION_NATIVE_CUBLAS
  elif command -v "$python" >/dev/null 2>&1 && found=$(timeout 30 "$python" -c 'import glob, os, re, sys
hits = [p for d in sys.path for pat in ("nvidia/cublas/lib/libcublas.so.*", "nvidia/cu*/lib/libcublas.so.*")
        for p in glob.glob(os.path.join(d or ".", pat)) if re.fullmatch(r"libcublas\.so\.\d+", os.path.basename(p))]
print(max(hits, key=lambda p: int(p.rsplit(".", 1)[1])) if hits else "")') && [ -n "$found" ]; then
    echo "cuBLAS: $found, from $python's site-packages (exported as ATTENTION_NATIVE_CUBLAS)"
  elif ldconfig -p 2>/dev/null | grep -Eq 'libcublas\.so\.1[123] '; then
    echo "cuBLAS: on the loader's path: $(ldconfig -p | grep -Eo 'libcublas\.so\.1[123] .*' | sort -V | tail -n 1)"
    return
  elif found=$(ls /usr/local/cuda*/lib64/libcublas.so.1[123] 2>/dev/null | sort -V | tail -n 1) && [ -n "$found" ]; then
    echo "cuBLAS: $found, from a CUDA toolkit (exported as ATTENTION_NATIVE_CUBLAS)"
  else
    echo "cuBLAS: not found in $python's site-packages, on the loader's path or in /usr/local/cuda*/lib64 (the layers' projections will fail; set ATTENTION_NATIVE_CUBLAS)"
    return
  fi
  export ATTENTION_NATIVE_CUBLAS=$found
  export LD_LIBRARY_PATH=$(dirname "$found")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
}

describe_machine() {
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host: $(uname -srm), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null) memory"
  echo "mode: $mode; budget ${budget}s; shapes $shapes"
  echo "dotnet: $(command -v dotnet) ($(dotnet --list-runtimes 2>&1 | head -n 1))"
  if command -v "$python" >/dev/null 2>&1; then
    echo "python: $(command -v "$python") ($("$python" --version 2>&1)), torch: $(timeout 60 "$python" -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda, "from", torch.__file__)' 2>&1 | tail -n 1)"
  else
    echo "python: $python absent"
  fi
  cat "$logs/cublas.txt" 2>/dev/null
  echo "LD_LIBRARY_PATH: ${LD_LIBRARY_PATH:-}"
  echo "ldconfig -p | grep -E 'cublas|libcuda':"
  ldconfig -p 2>/dev/null | grep -E 'cublas|libcuda' | sed 's/^\s*/  /'
  sed 's/^/pack /' "$pack/manifest.txt" 2>/dev/null
  if [ -z "$dry" ]; then
    echo
    timeout 30 nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,clocks.mem,power.draw,power.limit,temperature.gpu,persistence_mode --format=csv
    echo
    timeout 30 nvidia-smi
  else
    echo "nvidia-smi: not run: no GPU ($dry)"
  fi
}

# One test process per class, each cut (SIGINT: xunit then writes the tests it finished) at its share of what is left
# of the step's limit (an equal share among the classes still to run, at least 10 s), so that one slow or hung class
# cannot starve the others and time a class does not use flows to the next; every class's results are tagged (run,
# class, outcome) and merged into $OUT/tests.xml at once. Ends with a one-line summary (the step's note).
test_classes() { # test_classes <run> <limit> <xunit filter...>
  # A quarter of the limit, at most 10 s, is kept back for the last class's interrupt and the merge.
  local run=$1 end=$((SECONDS + $2 - ($2 / 4 < 10 ? $2 / 4 : 10))) class classes=() left share rc outcome kind file failed=0 done=0 counts=()
  shift 2
  if [ "$run" = gpu ]; then
    readarray -t classes < <("$dotnet" "$tests" -list classes "$@" 2>/dev/null | grep -E '^[A-Za-z_][A-Za-z0-9_.]*\.[A-Za-z0-9_]+$')
  else
    classes=("(every other class)")
  fi
  [ "${#classes[@]}" -gt 0 ] || { echo "tests: no $run class matches the filter ($*)"; return 1; }
  for class in "${classes[@]}"; do
    file=$work/tests/$(printf '%03d' "$(ls "$work/tests" | wc -l)")-$run.xml
    left=$((end - SECONDS))
    share=$((left / (${#classes[@]} - done)))
    done=$((done + 1))
    if [ "$share" -lt 10 ]; then share=$((left < 10 ? left : 10)); fi
    if [ "$share" -lt 5 ]; then
      write_xml "$file" "$run" "$class" "not run: the step's time was spent" 0
      failed=$((failed + 1)) counts+=("not run")
      merge_tests
      continue
    fi
    if [ "$run" = gpu ]; then set -- -class "$class"; fi
    # --foreground: the one interrupt to the test process alone (a second one, to its process group, would end it
    # before it writes its results).
    timeout --foreground -s INT -k 20 "$share" "$dotnet" "$tests" -noColor -result-xml "$file" "$@"
    rc=$?
    case $rc in
      0) outcome=finished kind=finished ;;
      1) outcome="finished, with failures" kind=$outcome ;;
      124) outcome="interrupted at its time limit after ${share}s (the tests it finished are kept)" kind=interrupted ;;
      137) outcome="killed 20s after an interrupt at its time limit" kind=killed ;;
      *) outcome="exit $rc" kind=$outcome ;;
    esac
    counts+=("$kind")
    [ "$rc" -eq 0 ] || failed=$((failed + 1))
    if [ -s "$file" ]; then
      sed -i "0,/<assembly /s//<assembly run=\"$run\" class=\"$class\" outcome=\"$outcome\" /" "$file"
    else
      write_xml "$file" "$run" "$class" "no results: $outcome (see run.log)" 1
    fi
    merge_tests
  done
  echo "tests: ${#classes[@]} $run class(es), one process each: $(printf '%s\n' "${counts[@]}" | sort | uniq -c |
    awk '{ n = $1; $1 = ""; printf "%s%d%s", (NR > 1 ? ", " : ""), n, $0 }')"
  [ "$failed" -eq 0 ]
}

write_xml() { # write_xml <file> <run> <class> <outcome> <failed 0|1>: a class that left no results of its own
  local test=""
  [ "$5" = 0 ] || test="<test name=\"$3\" result=\"Fail\"><failure><message>$4</message></failure></test>"
  printf '<assemblies><assembly run="%s" class="%s" outcome="%s" total="%s" passed="0" failed="%s" skipped="0" errors="0" time="0"><collection name="%s">%s</collection></assembly></assemblies>\n' \
    "$2" "$3" "$4" "$5" "$5" "$3" "$test" >"$1"
}

merge_tests() {
  {
    echo '<?xml version="1.0" encoding="utf-8"?>'
    echo '<assemblies>'
    for f in "$work"/tests/*.xml; do
      sed -e 's/^<?xml[^>]*>//; s/<assemblies[^>]*>//; s#</assemblies>##' "$f"
      echo
    done
    echo '</assemblies>'
  } >"$OUT/tests.xml.tmp" && mv "$OUT/tests.xml.tmp" "$OUT/tests.xml"
}

export pack work OUT dotnet tests
export -f extract unpack same_sources test_classes write_xml merge_tests

record() { # record <step> <result> <seconds> [note]
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:-}" >>"$logs/steps.tsv"
}

# Each step's share of the time left, by weight against the steps still to come.
declare -A weight=([torch]=12 [modules]=3 [bench-auto]=10 [bench-hopper]=4 [bench-mma]=4 [bench-splitkv]=3 [bench-simt]=7 [tests-gpu]=20
  [sweep-auto]=5 [sweep-mma]=4 [sweep-splitkv]=3 [sweep-simt]=4 [layers]=4 [tests-rest]=6)
pending=0
for w in "${weight[@]}"; do pending=$((pending + w)); done
allot() { # allot <weight name> [floor seconds]: sets $limit, at least the floor while a third of the time is left
  local left=$((budget - report_reserve - (SECONDS - start))) floor=${2:-0}
  limit=$((left * weight[$1] / pending))
  floor=$((floor < left / 3 ? floor : left / 3))
  limit=$((limit > floor ? limit : floor))
  pending=$((pending - weight[$1]))
}

# Runs one step under `timeout` within its limit; records how it went (with the last line it printed as the note: the
# tools end on their summary), renders the report and carries on.
step() { # step <name> <limit seconds> <command> [args...]
  local name=$1 limit=$2 t0=$SECONDS rc result note
  shift 2
  if [ "$limit" -lt 5 ]; then
    echo "=== $name: not run (time budget of ${budget}s spent)"
    record "$name" "not run: time budget" 0
    failures=$((failures + 1))
    return
  fi
  echo
  echo "=== $name (limit ${limit}s, $((SECONDS - start))s into the run)"
  timeout -k 10 "$limit" "$@" 2>&1 | tee "$logs/step.out"
  rc=${PIPESTATUS[0]}
  note=$(grep -v '^[[:space:]]*$' "$logs/step.out" | tail -n 1 | tr '\t' ' ' | cut -c 1-240)
  case $rc in
    0) result=ok ;;
    124 | 137) result="timed out after ${limit}s" ;;
    *) result="failed (exit $rc)" ;;
  esac
  [ "$rc" -eq 0 ] || failures=$((failures + 1))
  echo "=== $name: $result in $((SECONDS - t0))s"
  record "$name" "$result" $((SECONDS - t0)) "$note"
  render_report
}

not_run() { # not_run <step> <why>
  echo
  echo "=== $1: not run ($2)"
  record "$1" "not run: $2" 0
}

render_report() {
  [ -f "$perf" ] || return 1
  timeout -k 5 30 "$dotnet" "$perf" device-report --dir "$OUT" --logs "$logs" --shapes "$shapes" \
    --mode "$mode; $failures step(s) failed" --kernel-report "$pack/kernel-report.csv" --out "$OUT/report.md.tmp" >/dev/null && mv "$OUT/report.md.tmp" "$OUT/report.md"
}

# A tool's own budget: its step's limit less the process start and a margin, so that it ends before it is killed.
inner() {
  local margin=$(($1 / 8))
  echo $(($1 - (margin > 3 ? margin : 3)))
}

main() {
  echo "Perf/device/run.sh: $mode; OUT=$OUT; budget ${budget}s"
  step "unpack .device-pack" 120 bash -c unpack
  export DOTNET_ROOT=$work/dotnet PATH=$work/dotnet:$PATH PYTHONUNBUFFERED=1
  export DOTNET_gcServer=0 DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
  step "pack matches the sources" 60 bash -c same_sources
  find_cublas >"$logs/cublas.txt" 2>&1
  describe_machine >"$logs/machine.txt" 2>&1
  cat "$logs/machine.txt"
  record "machine facts" ok 0
  render_report

  local kernels=(auto hopper mma splitkv simt) k bench=() sweep=(--cases "$sweep_cases")
  if [ -n "$dry" ]; then
    kernels=(auto) bench=(--dry-run) sweep=(--cases 600 --dry-run)
  fi
  if command -v "$python" >/dev/null 2>&1; then
    allot torch
    step "torch SDPA baseline" "$limit" "$python" Perf/device/torch_sdpa.py --shapes "$shapes" \
      --budget-seconds "$(inner "$limit")" ${dry:+--dry-run} --out "$OUT/torch.csv"
  else
    pending=$((pending - weight[torch]))
    not_run "torch SDPA baseline" "no python${python:+: $python not found}"
  fi
  # The first JIT of every module (later processes read the driver's cache): slow for the mma module's 14 entries.
  allot modules 60
  if [ -z "$dry" ]; then
    step "gpu-modules: JIT every kernel module" "$limit" bash -c \
      'set -o pipefail; "$0" "$1" gpu-modules --out "$2" | tee "$3"' "$dotnet" "$perf" "$OUT/modules.csv" "$logs/modules.log"
  else
    not_run "gpu-modules: JIT every kernel module" "no GPU: $dry"
  fi
  # One process per variant: the tensor-core and split-KV rows (auto's choices, then forced: the Hopper kernel before
  # mma) before the SIMT rows.
  for k in auto hopper mma splitkv simt; do
    allot "bench-$k" 15
    [[ " ${kernels[*]} " == *" $k "* ]] || continue
    step "gpu-bench: $k" "$limit" "$dotnet" "$perf" gpu-bench --shapes "$shapes" --kernels "$k" \
      --budget-seconds "$(inner "$limit")" "${bench[@]}" --out "$OUT/bench.csv"
  done
  allot tests-gpu
  step "tests: GPU classes, one process each" "$limit" bash -c 'test_classes gpu "$0" -trait Device=Cuda "$@"' "$limit" \
    "${test_filter[@]}"
  local seed=$((RANDOM * 32768 + RANDOM))
  for k in auto mma splitkv simt; do
    allot "sweep-$k" 15
    [[ " ${kernels[*]} " == *" $k "* ]] || continue
    step "sweep: $k vs CPU vs float64" "$limit" "$dotnet" "$perf" sweep "${sweep[@]}" --seed "$seed" --kernels "$k" \
      --budget-seconds "$(inner "$limit")" --out "$OUT/sweep.csv"
  done
  allot layers
  step "gpu-layers: layers on CUDA vs CPU" "$limit" "$dotnet" "$perf" gpu-layers ${dry:+--dry-run}
  allot tests-rest
  step "tests: the rest of the suite" "$limit" bash -c 'test_classes rest "$0" -trait- Device=Cuda "$@"' "$limit" \
    "${test_filter[@]}"

  echo
  echo "=== report"
  # A file no step wrote says so, so that every file comes back.
  for f in modules.csv torch.csv bench.csv sweep.csv; do
    [ -s "$OUT/$f" ] || echo "# not produced: its step did not run or failed first (see report.md's steps)" >"$OUT/$f"
  done
  [ -s "$OUT/tests.xml" ] || merge_tests
  if ! render_report; then
    failures=$((failures + 1))
    {
      echo "# Attention.Native device run (fallback report: device-report failed)"
      echo
      echo "Mode: $mode. See run.log."
      echo
      echo "| step | result | seconds | note |"
      echo "|---|---|---:|---|"
      sed 's/\t/ | /g; s/^/| /; s/$/ |/' "$logs/steps.tsv"
      echo
      echo '```text'
      cat "$logs/machine.txt"
      echo '```'
    } >"$OUT/report.md"
  fi

  # The device tool returns the output's tail: end with the parts of the report that matter most.
  echo
  sed -n '/^## Steps/,/^## Machine/p; /^## Tests/,/^## Correctness/p' "$OUT/report.md" | grep -v '^## Machine\|^## Correctness'
  echo "Wrote $OUT/report.md ($((SECONDS - start)) s, $failures step(s) failed)."
  [ "$failures" -eq 0 ]
}

set -o pipefail
main 2>&1 | tee "$OUT/run.log"
status=${PIPESTATUS[0]}
rm -rf "$work"
exit "$status"
