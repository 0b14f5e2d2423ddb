#!/usr/bin/env bash
# Publishes Tests/AotSample with NativeAOT (dotnet publish -c Release -r <this machine's RID>) and runs the native
# binary. Fails on any warning in the publish (trim/AOT analysis of the library included) or a wrong result.
# Exits 77 (skipped), saying why, where the NativeAOT compiler package (Microsoft.DotNet.ILCompiler, the version the
# SDK picks for its runtime) cannot be restored, or on an OS/architecture without a linux-x64 / linux-arm64 RID.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
case "$(uname -s)/$(uname -m)" in
  Linux/x86_64) rid=linux-x64 ;;
  Linux/aarch64) rid=linux-arm64 ;;
  *) echo "skipped: no NativeAOT check for $(uname -s)/$(uname -m) in this script"; exit 77 ;;
esac
work=$(mktemp -d "${TMPDIR:-/tmp}/attention-native-aot.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "-- dotnet publish Tests/AotSample -c Release -r $rid (PublishAot)"
if ! dotnet publish "$repo/Tests/AotSample" -c Release -r "$rid" -o "$work/publish" -nologo >"$work/publish.log" 2>&1; then
  cat "$work/publish.log" >&2
  if grep -Eqi '(NU1101|NU1102|NU1103).*ILCompiler' "$work/publish.log"; then
    echo "skipped: the NativeAOT compiler package could not be restored (see the NuGet error above)"
    exit 77
  fi
  echo "AOT sample: dotnet publish failed (above)" >&2
  exit 1
fi
# Warnings are errors in this repository, so any left would be from a tool that ignores that: fail on them too.
if grep -Ei ': warning [A-Z]+[0-9]+' "$work/publish.log" >&2; then
  echo "AOT sample: the publish reported warnings (above)" >&2
  exit 1
fi
binary=$work/publish/AotSample
[ -x "$binary" ] || { echo "AOT sample: no native binary at $binary" >&2; exit 1; }
echo "   native binary: $(du -k "$binary" | cut -f1) KiB"
status=0
"$binary" >"$work/run.log" 2>&1 || status=$?
sed 's/^/   /' "$work/run.log"
[ "$status" -eq 0 ] || { echo "AOT sample: the binary exited with $status" >&2; exit 1; }
