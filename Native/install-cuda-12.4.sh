#!/usr/bin/env bash
# CUDA 12.4.1 for the sm_90a (Hopper) kernels, beside the system's 11.8: Debian trixie's non-free
# nvidia-cuda-toolkit, nvidia-cuda-dev (its include tree only) and libnvvm4, fetched with `apt-get download` against a
# private sources list and lists folder (the system's apt sources are not changed) and unpacked with dpkg-deb under
# artifacts/cuda-12.4. NVIDIA's own binaries in those packages run on Debian 12 as they are.
#   bash Native/install-cuda-12.4.sh [root]     root defaults to artifacts/cuda-12.4
# Idempotent: a no-op when <root>/.installed names the same recipe and its nvcc.profile this folder.
# Native/check_sm90a.sh uses the result ($CUDA12_ROOT, else artifacts/cuda-12.4: nvcc, ptxas, cuobjdump 12.4). Without
# apt-get it says so and exits 0: the sm_90a checks are then reported as skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

root=${1:-artifacts/cuda-12.4}
apt_dir=artifacts/apt-trixie
packages=(nvidia-cuda-toolkit nvidia-cuda-dev libnvvm4)
recipe="trixie ${packages[*]} 12.4"

# The relocated nvcc.profile names the folder's absolute path: a moved folder is unpacked again.
if [ -f "$root/.installed" ] && [ "$(cat "$root/.installed")" = "$recipe" ] \
   && [ -x "$root/usr/lib/nvidia-cuda-toolkit/bin/nvcc" ] \
   && grep -qF "$(cd "$root" && pwd)/usr/include" "$root/usr/lib/nvidia-cuda-toolkit/bin/nvcc.profile"; then
  echo "install-cuda-12.4: already unpacked in $root ($("$root/usr/bin/ptxas" --version | tail -n 1))"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
  echo "install-cuda-12.4: needs apt-get and dpkg-deb; not unpacking (the sm_90a checks will be skipped)" >&2
  exit 0
fi

started=$(date +%s)
rm -rf "$root"
mkdir -p "$apt_dir"/lists/partial "$apt_dir"/cache/archives/partial "$root"
echo "deb http://deb.debian.org/debian trixie main contrib non-free" >"$apt_dir"/sources.list
apt_options=(-q -o Dir::Etc::SourceList="$PWD/$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o Dir::State::Lists="$PWD/$apt_dir/lists" -o Dir::Cache="$PWD/$apt_dir/cache"
  -o APT::Sandbox::User=root)
apt-get "${apt_options[@]}" update
rm -f "$apt_dir"/*.deb
(cd "$apt_dir" && apt-get "${apt_options[@]}" download "${packages[@]}")
for deb in "$apt_dir"/nvidia-cuda-toolkit_*.deb "$apt_dir"/libnvvm4_*.deb; do
  dpkg-deb -x "$deb" "$root"
done
# nvidia-cuda-dev is mostly static libraries the PTX build does not link: only its headers.
dpkg-deb --fsys-tarfile "$apt_dir"/nvidia-cuda-dev_*.deb | tar -x -C "$root" ./usr/include

# The package's nvcc.profile is a symlink to /etc/nvcc.profile, the system's 11.8 profile: never write through it.
# A relocated copy points nvcc at the unpacked tree and its headers.
absolute=$(cd "$root" && pwd)
profile=$absolute/usr/lib/nvidia-cuda-toolkit/bin/nvcc.profile
rm -f "$profile"
sed -e "s|/usr/lib/nvidia-cuda-toolkit|$absolute/usr/lib/nvidia-cuda-toolkit|g" \
    -e "s|^#INCLUDES.*|INCLUDES += \"-I$absolute/usr/include\" \$(_SPACE_)|" "$absolute/etc/nvcc.profile" >"$profile"
du_debs=$(du -cm "$apt_dir"/*.deb | tail -n 1 | cut -f 1)
rm -f "$apt_dir"/*.deb
echo "$recipe" >"$root/.installed"
echo "install-cuda-12.4: $("$root/usr/bin/ptxas" --version | tail -n 1) in $root" \
     "(${du_debs} MB of packages, $(($(date +%s) - started)) s)"
