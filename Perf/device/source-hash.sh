#!/usr/bin/env bash
# Prints one SHA-256 over the sources the device pack is built from (C#, projects, CUDA, PTX, JSON settings), so that
# Perf/device/run.sh can tell whether .device-pack/ was built from the working tree it runs in. Both ends run this
# same script: ./build.sh device-pack records its output in the manifest, run.sh compares.
set -euo pipefail
cd "$(dirname "$0")/../.."
find Managed Native Tests Perf/Attention.Native.Perf Directory.Build.props Directory.Packages.props global.json \
    \( -name bin -o -name obj \) -prune -o -type f \
    \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.cu' -o -name '*.cuh' -o -name '*.ptx' \
       -o -name '*.json' \) ! -name '*.received.*' -print |
  LC_ALL=C sort | xargs -d '\n' sha256sum | sha256sum | cut -d' ' -f1
