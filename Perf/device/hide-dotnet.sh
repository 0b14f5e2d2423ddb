# Sourced by Perf/device/dry-run.sh and rehearsal.sh: run.sh must run from the pack's own .NET runtime, as on the GPU
# machine, which has none. hide_dotnet <folder> puts a `dotnet` there that fails loudly and prints a PATH with that
# folder first and every folder of a .NET install dropped (a shared one such as /usr/bin stays, shadowed by the stub).
hide_dotnet() { # hide_dotnet <stub folder>
  printf '#!/bin/sh\necho "device run: the system dotnet was called ($*); run.sh must use the packed runtime" >&2\nexit 97\n' >"$1/dotnet"
  chmod +x "$1/dotnet"
  local path=$1 entry entries
  IFS=: read -ra entries <<<"$PATH"
  for entry in "${entries[@]}"; do
    case "$entry" in *dotnet*) continue ;; esac
    path=$path:$entry
  done
  echo "$path"
}
