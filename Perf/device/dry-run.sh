#!/usr/bin/env bash
# Perf/device/run.sh without a GPU, as the GPU machine will run it, from the .device-pack/ that Perf/device/pack.sh
# made: the system dotnet hidden from PATH (Perf/device/hide-dotnet.sh), OUT a scratch folder (kept, and named, on
# failure). Exit 0 when run.sh succeeds and writes report.md, 1 otherwise. The integration test DeviceTests runs it
# after pack.sh; Perf/device/rehearsal.sh runs run.sh on the emulated device instead.
set -uo pipefail
cd "$(dirname "$0")/../.."
source Perf/device/hide-dotnet.sh
out=$(mktemp -d) stub=$(mktemp -d)
trap 'rm -rf "$stub"' EXIT
echo "== device dry run: OUT=$out, PATH without .NET (stub first)"
start=$SECONDS
status=0
# A few test classes (DEVICE_TEST_FILTER): they show the packed runtime running the suite and the GPU classes skipping
# with their reason; ./build.sh test runs every class on its own.
filter=""
for class in Cuda.CudaAvailabilityTests Cuda.CudaErrorTests Cuda.CudaAttentionTests Cuda.NativeLibraryResolverTests Cuda.PtxResourceTests Api.ValidationTests; do
  filter+="-class Attention.Native.Tests.$class "
done
env -u DOTNET_ROOT PATH="$(hide_dotnet "$stub")" OUT="$out" DEVICE_DRY_RUN=1 DEVICE_TEST_FILTER="$filter" \
  bash Perf/device/run.sh || status=$?
if [ "$status" -ne 0 ] || [ ! -s "$out/report.md" ]; then
  echo "FAIL device dry run: run.sh exited $status (report: $out/report.md)" >&2
  exit 1
fi
echo "== device dry run passed in $((SECONDS - start)) s"
rm -rf "$out"
