#!/usr/bin/env bash
# Perf/device/run.sh without a GPU, as the GPU machine will run it, from the .device-pack/ that Perf/device/pack.sh
# made: the system dotnet hidden from PATH (a stub that fails loudly shadows whatever is left), OUT a scratch folder
# (kept, and named, on failure). Exit 0 when run.sh succeeds and writes report.md, 1 otherwise. The integration test
# DevicePackTests runs it after pack.sh.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp -d) stub=$(mktemp -d)
trap 'rm -rf "$stub"' EXIT
printf '#!/bin/sh\necho "device dry run: the system dotnet was called ($*); run.sh must use the packed runtime" >&2\nexit 97\n' >"$stub/dotnet"
chmod +x "$stub/dotnet"
path=""
IFS=: read -ra entries <<<"$PATH"
for entry in "${entries[@]}"; do
  # Folders of a .NET install are dropped; a shared one (/usr/bin) stays, shadowed by the stub.
  case "$entry" in *dotnet*) continue ;; esac
  path=${path:+$path:}$entry
done
echo "== device dry run: OUT=$out, PATH without .NET (stub first)"
start=$SECONDS
status=0
env -u DOTNET_ROOT PATH="$stub:$path" OUT="$out" DEVICE_DRY_RUN=1 bash Perf/device/run.sh || status=$?
if [ "$status" -ne 0 ] || [ ! -s "$out/report.md" ]; then
  echo "FAIL device dry run: run.sh exited $status (report: $out/report.md)" >&2
  exit 1
fi
echo "== device dry run passed in $((SECONDS - start)) s"
rm -rf "$out"
