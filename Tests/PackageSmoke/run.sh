#!/usr/bin/env bash
# Packed-package smoke test: `dotnet pack` the library into a folder of its own, check what the .nupkg holds, then
# make a fresh console app (`dotnet new console` outside the repository, so none of its build settings apply), add
# the package with `dotnet add package` from that folder (plus the sources NuGet is normally configured with) into a
# NuGet cache of its own, so that no Attention.Native restored earlier can stand in for it, build it with warnings as
# errors and run it: Program.cs + AttentionCheck.cs compare attention on random data with the float64 reference.
# Exits non-zero, saying why, on any failure. Needs only the .NET SDK (no CUDA toolkit, no GPU).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
here=$repo/Tests/PackageSmoke
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
work=$(mktemp -d "${TMPDIR:-/tmp}/attention-native-package.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() { echo "package smoke test: $*" >&2; exit 1; }

# Lists / prints members of a zip (unzip where installed, else Python's zipfile).
zip_list() {
  if command -v unzip >/dev/null 2>&1; then unzip -Z1 "$1"; else python3 -c 'import sys, zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$1"; fi
}
zip_cat() {
  if command -v unzip >/dev/null 2>&1; then unzip -p "$1" "$2"; else python3 -c 'import sys, zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())' "$1" "$2"; fi
}

echo "-- dotnet pack Managed/Attention.Native -c Release"
dotnet pack "$repo/Managed/Attention.Native" -c Release -o "$work/feed" -nologo -v quiet
packages=("$work"/feed/Attention.Native.*.nupkg)
[ "${#packages[@]}" -eq 1 ] && [ -f "${packages[0]}" ] || fail "expected one Attention.Native.*.nupkg, found: ${packages[*]}"
nupkg=${packages[0]}
version=$(basename "$nupkg" .nupkg)
version=${version#Attention.Native.}
echo "   $(basename "$nupkg"): $(wc -c <"$nupkg") bytes"
zip_list "$nupkg" | sed 's/^/     /'

contents=$(zip_list "$nupkg")
for expected in Attention.Native.nuspec README.md lib/net10.0/Attention.Native.dll lib/net10.0/Attention.Native.xml; do
  grep -qxF "$expected" <<<"$contents" || fail "the package lacks $expected"
done
grep -q '^analyzers/' <<<"$contents" && fail "the package ships an analyzer: the launcher generator is build-time only"
nuspec=$(zip_cat "$nupkg" Attention.Native.nuspec)
# The library has no runtime dependencies; in particular the generator project must not become one.
if grep -q '<dependency ' <<<"$nuspec"; then
  grep '<dependency ' <<<"$nuspec" >&2
  fail "the nuspec lists dependencies (above); the package should have none"
fi
grep -q '<license type="expression">' <<<"$nuspec" || fail "the nuspec has no license expression"
grep -q '<readme>README.md</readme>' <<<"$nuspec" || fail "the nuspec names no readme"
echo "   nuspec: no dependencies, license $(sed -n 's|.*<license type="expression">\(.*\)</license>.*|\1|p' <<<"$nuspec"), readme README.md"

echo "-- dotnet new console + dotnet add package Attention.Native --version $version"
# The local folder is added to the sources NuGet is normally configured with (no <clear/>).
cat >"$work/NuGet.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="attention-native-smoke" value="$work/feed" />
  </packageSources>
</configuration>
XML
export NUGET_PACKAGES=$work/nuget-packages
dotnet new console --framework net10.0 --name SmokeApp --output "$work/app" >/dev/null
(cd "$work/app" && dotnet add package Attention.Native --version "$version" >/dev/null) \
  || fail "dotnet add package Attention.Native --version $version failed"
restored=$NUGET_PACKAGES/attention.native/$version
[ -f "$restored/attention.native.$version.nupkg" ] || fail "Attention.Native $version was not restored into $NUGET_PACKAGES"
cmp -s "$nupkg" "$restored/attention.native.$version.nupkg" || fail "the restored Attention.Native $version is not the one just packed"
cp "$here/Program.cs" "$here/AttentionCheck.cs" "$work/app/"

echo "-- build (warnings as errors) and run"
dotnet build "$work/app" -c Release -nologo -v quiet -warnaserror >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; fail "the sample does not build against the package"; }
status=0
dotnet "$work/app/bin/Release/net10.0/SmokeApp.dll" >"$work/run.log" 2>&1 || status=$?
sed 's/^/   /' "$work/run.log"
[ "$status" -eq 0 ] || fail "the sample exited with $status"
