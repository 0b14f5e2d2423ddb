#!/usr/bin/env bash
# build.sh test's "perf-outputs" check: the perf tool's compare, gemm, heatmap and embed-bench commands write their files.
# compare --quick on one small shape (1 thread, with the peers that load; then in half on the Vector128 and Scalar
# kernels; then a decode shape on an int8 key/value cache, contiguous and in pages of 16, beside a shape it cannot take) and heatmap into a scratch folder; every CSV, Markdown and PNG must exist and be non-empty, and each PNG must
# start with the PNG signature and be of plausible size. Each peer (torch, ort) must have its rows for that shape, or a
# "Peer not measured: <peer>: <reason>" line where its native library cannot load here (no failure then).
# Exit status: 0 pass, 1 fail, 77 skip (the integration test SampleTests runs it). Needs a build of
# Perf/Attention.Native.Perf in CONFIGURATION (Release by default).
set -uo pipefail
cd "$(dirname "$0")/.."
tool=Perf/Attention.Native.Perf/bin/${CONFIGURATION:-Release}/net10.0/Attention.Native.Perf.dll
if [ ! -f "$tool" ]; then
  echo "skipped: $tool is not built (./build.sh builds it)"
  exit 77
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

echo "== compare --quick --shapes self-h8-l128-d64 --threads 1 --out $out/compare"
timeout 120 dotnet "$tool" compare --quick --shapes self-h8-l128-d64 --threads 1 --seed 1 --out "$out/compare" ||
  fail "compare exited $?"
echo "== compare --dtypes half --variants Vector128,Scalar --threads 1 --shapes self-h8-l128-d64 --quick --out $out/half"
timeout 120 dotnet "$tool" compare --dtypes half --variants Vector128,Scalar --threads 1 --shapes self-h8-l128-d64 --quick --seed 1 \
  --out "$out/half" || fail "compare --dtypes half --variants Vector128,Scalar exited $?"
echo "== compare --dtypes int8kv,e4m3kv --backends cpu --peers none --threads 1 --shapes decode-gqa,self-h8-l128-d64 --paged 16 --quick --out $out/int8kv"
timeout 150 dotnet "$tool" compare --dtypes int8kv,e4m3kv --backends cpu --peers none --threads 1 --shapes decode-gqa,self-h8-l128-d64 --paged 16 --quick \
  --seed 1 --out "$out/int8kv" || fail "compare --dtypes int8kv --paged 16 exited $?"
echo "== gemm --quick --shapes 'proj 2048x512x512 Bt' --threads 1 --seconds 0.1 --out $out/gemm"
timeout 120 dotnet "$tool" gemm --quick --shapes 'proj 2048x512x512 Bt' --threads 1 --seconds 0.1 --seed 1 --out "$out/gemm" ||
  fail "gemm exited $?"
echo "== embed-bench --quick --batches 2 --tokens 16,mixed --threads 1 --out $out/embed"
timeout 300 dotnet "$tool" embed-bench --quick --batches 2 --tokens 16,mixed --threads 1 --out "$out/embed" ||
  fail "embed-bench exited $?"
echo "== heatmap --out $out/h.png"
timeout 60 dotnet "$tool" heatmap --out "$out/h.png" || fail "heatmap exited $?"
echo "== heatmap --random --lq 7 --lk 9 --heads 3 --head 2 --causal --out $out/r.png"
timeout 60 dotnet "$tool" heatmap --random --lq 7 --lk 9 --heads 3 --head 2 --causal --out "$out/r.png" || fail "heatmap --random exited $?"
for command in compare gemm heatmap sweep gpu-bench gpu-modules device-report embed-bench; do
  help=$(timeout 60 dotnet "$tool" "$command" --help 2>&1)
  status=$?
  { [ "$status" -eq 0 ] && grep -q DESCRIPTION <<<"$help" && ! grep -q Exception <<<"$help"; } ||
    fail "$command --help exited $status or printed no DESCRIPTION: $(head -c 400 <<<"$help")"
done
echo "== heatmap --head 5 --heads 2 (bad arguments: exit 2)"
timeout 60 dotnet "$tool" heatmap --head 5 --heads 2 --out "$out/bad.png" >/dev/null 2>&1
status=$?
[ "$status" -eq 2 ] || fail "heatmap with a bad --head exited $status, expected 2"
echo "== compare --peers bogus (bad arguments: exit 2)"
timeout 60 dotnet "$tool" compare --peers bogus --out "$out/bad" >/dev/null 2>&1
status=$?
[ "$status" -eq 2 ] || fail "compare with a bad --peers exited $status, expected 2"
echo "== compare --dtypes int4kv (bad arguments: exit 2)"
timeout 60 dotnet "$tool" compare --dtypes int4kv --out "$out/bad" >/dev/null 2>&1
status=$?
[ "$status" -eq 2 ] || fail "compare with a bad --dtypes exited $status, expected 2"

check_file() { # check_file <path> <min bytes>
  local size
  [ -s "$1" ] || { fail "$1 is missing or empty"; return; }
  size=$(wc -c <"$1")
  [ "$size" -ge "$2" ] || fail "$1 has $size bytes, expected at least $2"
}
check_png() { # check_png <path>: signature, IHDR, size 8 KiB to 8 MiB
  check_file "$1" 8192
  [ -s "$1" ] || return
  [ "$(head -c 16 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a0000000d49484452 ] ||
    fail "$1 does not start with the PNG signature and IHDR"
  [ "$(wc -c <"$1")" -le 8388608 ] || fail "$1 is over 8 MiB"
  echo "   $1: PNG, $(wc -c <"$1") bytes"
}
check_file "$out/compare/compare.md" 200
check_file "$out/compare/compare.csv" 200
grep -q '^self-h8-l128-d64,' "$out/compare/compare.csv" || fail "compare.csv has no self-h8-l128-d64 row"
grep -q 'self-h8-l128-d64' "$out/compare/compare.md" || fail "compare.md has no self-h8-l128-d64 row"
# The shape's BSHD twin: its rows carry their rate over the BHSD rows'.
grep -q '^self-h8-l128-d64-bshd,' "$out/compare/compare.csv" || fail "compare.csv has no self-h8-l128-d64-bshd row"
grep -q '| bshd/bhsd |' "$out/compare/compare.md" || fail "compare.md has no bshd/bhsd column"
# Peers: rows for both masks, checked against float64 like ours, with the ours/peer ratio; or the reason they are absent.
for peer in torch ort; do
  if grep -q "Peer not measured: $peer: " "$out/compare/compare.md"; then
    echo "   $peer skipped: $(grep -o "Peer not measured: $peer: .*" "$out/compare/compare.md" | head -1)"
    continue
  fi
  for mask in none causal; do
    grep -Eq "^self-h8-l128-d64,$mask,([^,]*,){7}$peer,.*,True,.*,float,[^,]+,[0-9.E+-]+\$" "$out/compare/compare.csv" ||
      fail "compare.csv has no passing $peer row with an ours_over_peer ratio for self-h8-l128-d64 $mask"
  done
  grep -q "| ours/$peer |" "$out/compare/compare.md" || fail "compare.md has no ours/$peer column in its peers table"
done
echo "== embed-bench --tokens 300 (bad arguments: exit 2)"
timeout 60 dotnet "$tool" embed-bench --tokens 300 --out "$out/bad" >/dev/null 2>&1
status=$?
[ "$status" -eq 2 ] || fail "embed-bench with a bad --tokens exited $status, expected 2"
check_file "$out/embed/embed-bench.md" 500
grep -Eq '^1,2,mixed,[0-9]+,[0-9]+,([^,]*,){7}True,' "$out/embed/embed-bench.csv" || fail "embed-bench.csv has no passing 2 × mixed row"
check_png "$out/embed/embed-throughput.png"
check_png "$out/embed/embed-ratio.png"
check_file "$out/gemm/gemm.md" 200
check_file "$out/gemm/gemm.csv" 100
grep -q '^proj 2048x512x512 Bt,2048,512,512,false,true,' "$out/gemm/gemm.csv" || fail "gemm.csv has no 'proj 2048x512x512 Bt' row"
check_file "$out/half/compare.csv" 200
head -1 "$out/half/compare.csv" | tr ',' '\n' | grep -qx dtype || fail "$out/half/compare.csv has no dtype column"
head -1 "$out/half/compare.csv" | tr ',' '\n' | grep -qx kernel || fail "$out/half/compare.csv has no kernel column"
grep -Eq '^self-h8-l128-d64,.*,half,tiled(,|$)' "$out/half/compare.csv" || fail "$out/half/compare.csv has no half/tiled row"
grep -q ',Scalar,' "$out/half/compare.csv" || fail "$out/half/compare.csv has no Scalar row"
check_file "$out/int8kv/compare.csv" 200
grep -Eq '^decode-gqa-hq32-hkv8-lk4096-d128,none,([^,]*,){10}[0-9.E+-]+,[0-9.E+-]+,[0-9.E+-]+,paired read,[0-9.E+-]+,[0-9.E+-]+,full,True,.*,int8kv,decode(,|$)' \
  "$out/int8kv/compare.csv" || fail "$out/int8kv/compare.csv has no passing int8kv decode row with its fraction of the paired read"
grep -Eq '^decode-gqa-hq32-hkv8-lk4096-d128,none,([^,]*,){10}[0-9.E+-]+,[0-9.E+-]+,[0-9.E+-]+,paired read,[0-9.E+-]+,[0-9.E+-]+,full,True,.*,int8kv,decode paged16 nhd(,|$)' \
  "$out/int8kv/compare.csv" || fail "$out/int8kv/compare.csv has no passing paged (nhd) int8kv decode row with its fraction of the paired read"
grep -Eq '^decode-gqa-hq32-hkv8-lk4096-d128,none,([^,]*,){10}[0-9.E+-]+,[0-9.E+-]+,[0-9.E+-]+,paired read,[0-9.E+-]+,[0-9.E+-]+,full,True,.*,int8kv,decode paged16 hnd(,|$)' \
  "$out/int8kv/compare.csv" || fail "$out/int8kv/compare.csv has no passing head-major paged (hnd) int8kv decode row with its fraction of the paired read"
for kernel in "decode" "decode paged16 nhd" "decode paged16 hnd"; do
  grep -Eq "^decode-gqa-hq32-hkv8-lk4096-d128,none,([^,]*,){10}[0-9.E+-]+,[0-9.E+-]+,[0-9.E+-]+,paired read,[0-9.E+-]+,[0-9.E+-]+,full,True,.*,e4m3kv,$kernel(,|\$)" \
    "$out/int8kv/compare.csv" || fail "$out/int8kv/compare.csv has no passing e4m3kv '$kernel' row with its fraction of the paired read"
done
grep -q 'Not measured: self-h8-l128-d64 int8kv: ' "$out/int8kv/compare.md" ||
  fail "$out/int8kv/compare.md does not say why self-h8-l128-d64 int8kv is not measured"
check_png "$out/compare/throughput.png"
check_png "$out/compare/speedup.png"
check_png "$out/h.png"
check_png "$out/r.png"

if [ "$failures" -gt 0 ]; then
  echo "perf-outputs: $failures failure(s)"
  exit 1
fi
echo "perf-outputs: all files written and valid"
