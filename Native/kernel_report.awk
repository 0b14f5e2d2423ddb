# The static metrics of one PTX module's entries for one arch (Native/check.sh kernel-report and its kernel-target
# checks): awk -v arch=sm_90 -f Native/kernel_report.awk <module.ptx> <ptxas -v log> <cuobjdump --dump-sass listing>
# prints one line per entry, in the module's order, of space-separated fields:
#   entry arch regs spill_stores spill_loads static_smem dynamic_smem threads ctas limit warps hmma ldsm ldgsts bar lds
# (dynamic_smem and threads are "?" where the entry does not declare them; ctas and warps are then "?" too).
#
# From the PTX: threads from the entry's `.maxntid` (__launch_bounds__) and the launch an entry declares with a comment
# in its body, `// kernel-report: threads <n> dynamic-smem <bytes>` (an inline-asm comment, so the numbers come from
# the same constants as the kernel's tile: Native/kernel_report.cuh). From ptxas -v: registers, spill bytes, static
# shared memory. CTAs per SM on an H100/H200 (sm_90: 65536 registers in 4 sub-partitions allocated 256 per warp,
# 228 KiB shared memory with 1 KiB reserved per CTA in 128-byte units, 2048 threads, 32 CTAs), with the resource that
# binds (regs, smem, threads, ctas); warps = CTAs · warps per CTA.
#
# From the SASS: the counts of HMMA, LDSM, LDGSTS, BAR and LDS (the TF32 kernels' fragment reads) in the entry's main
# loop, which is the body of the
# backward branch (a BRA to a lower address) that holds the most HMMA; where none holds an HMMA, the one that holds the
# most BAR; ties go to the shorter body. Static counts: a loop body holds every path through it (masked and plain
# blocks alike), so these are instructions per iteration of the path that has them all.

function reset_function() { n = 0 }

# The main loop of the function just read (ins[1..n], addr[1..n]) into the metrics of `current`.
function finish_function(    i, j, target, lo, hi, best_lo, best_hi, best_h, best_b, best_len, h, b, len, k, op) {
  if (current == "") return
  best_lo = 0; best_hi = -1; best_h = -1; best_b = -1; best_len = 0
  for (i = 1; i <= n; i++) {
    op = opcode(ins[i])
    if (op !~ /^BRA/) continue
    target = branch_target(ins[i])
    if (target < 0 || target >= addr[i]) continue
    lo = 0
    for (j = i; j >= 1 && addr[j] >= target; j--) lo = j
    if (lo == 0) continue
    h = 0; b = 0
    for (k = lo; k <= i; k++) {
      op = opcode(ins[k])
      if (op ~ /^HMMA/) h++
      if (op ~ /^BAR($|\.)/ && op !~ /^BAR\.ARV/) b++
    }
    len = i - lo + 1
    if (h > best_h || (h == best_h && (b > best_b || (b == best_b && len < best_len)))) {
      best_h = h; best_b = b; best_len = len; best_lo = lo; best_hi = i
    }
  }
  hmma[current] = 0; ldsm[current] = 0; ldgsts[current] = 0; bar[current] = 0; lds[current] = 0
  for (k = best_lo; k <= best_hi; k++) {
    if (k < 1) continue
    op = opcode(ins[k])
    if (op ~ /^HMMA/) hmma[current]++
    if (op ~ /^LDSM/) ldsm[current]++
    if (op ~ /^LDGSTS/) ldgsts[current]++
    if (op ~ /^BAR($|\.)/ && op !~ /^BAR\.ARV/) bar[current]++
    if (op ~ /^LDS($|\.)/) lds[current]++
  }
  looped[current] = best_hi >= 1
}

# The opcode of an instruction text, without its predicate (@P0, @!UP1); "NOP" for one that never runs (@!PT, the
# padding ptxas writes).
function opcode(text,    f) {
  split(text, f, /[ \t]+/)
  if (f[1] == "@!PT") return "NOP"
  return f[1] ~ /^@/ ? f[2] : f[1]
}

# The target address of a branch (its last 0x operand), or -1.
function branch_target(text,    f, k, t) {
  t = -1
  k = split(text, f, /[ ,\t]+/)
  for (; k >= 1; k--) if (f[k] ~ /^0x[0-9a-f]+$/) { t = hex(f[k]); break }
  return t
}

function hex(s,    v, i, c) {
  v = 0
  s = tolower(s); sub(/^0x/, "", s)
  for (i = 1; i <= length(s); i++) {
    c = index("0123456789abcdef", substr(s, i, 1)) - 1
    v = v * 16 + c
  }
  return v
}

function ceil_to(x, unit) { return int((x + unit - 1) / unit) * unit }

{ file = FILENAME == ARGV[1] ? 1 : FILENAME == ARGV[2] ? 2 : 3 }

# --- 1: the PTX ----------------------------------------------------------------------------------------------------
file == 1 && /\.entry[ \t]+[A-Za-z_$][A-Za-z0-9_$]*[ \t]*\(/ {
  name = $0
  sub(/.*\.entry[ \t]+/, "", name); sub(/[ \t]*\(.*/, "", name)
  entries[++entry_count] = name
  entry = name
  threads[entry] = "?"; dynamic[entry] = "?"
}
file == 1 && /^\.maxntid/ && entry != "" {
  line = $0; gsub(/[^0-9,]/, "", line); split(line, dims, ",")
  threads[entry] = dims[1] * dims[2] * dims[3]
}
file == 1 && /\/\/ kernel-report: threads [0-9]+ dynamic-smem [0-9]+/ && entry != "" {
  line = $0; sub(/.*kernel-report: threads /, "", line); split(line, f, /[ \t]+/)
  threads[entry] = f[1] + 0; dynamic[entry] = f[3] + 0
}

# --- 2: ptxas -v ---------------------------------------------------------------------------------------------------
file == 2 && /Compiling entry function/ {
  split($0, quoted, "'"); entry = quoted[2]
  regs[entry] = 0; spill_st[entry] = 0; spill_ld[entry] = 0; smem[entry] = 0
}
file == 2 && /bytes spill stores/ {
  line = $0; sub(/.*stack frame, /, "", line); split(line, f, /[ \t]+/)
  spill_st[entry] = f[1] + 0; spill_ld[entry] = f[5] + 0
}
file == 2 && /Used [0-9]+ registers/ {
  line = $0; sub(/.*Used /, "", line); split(line, f, /[ \t]+/); regs[entry] = f[1] + 0
  if ($0 ~ /bytes smem/) { line = $0; sub(/ bytes smem.*/, "", line); sub(/.*, /, "", line); smem[entry] = line + 0 }
}

# --- 3: the SASS listing -------------------------------------------------------------------------------------------
file == 3 && /Function : / {
  finish_function(); reset_function()
  current = $0; sub(/.*Function : /, "", current); sub(/[ \t]+$/, "", current)
}
file == 3 && /^[ \t]*\/\*[0-9a-f]+\*\// {
  line = $0
  sub(/^[ \t]*\/\*/, "", line)
  a = line; sub(/\*\/.*/, "", a)
  sub(/^[0-9a-f]+\*\/[ \t]*/, "", line); sub(/[ \t]*;.*/, "", line)
  n++; addr[n] = hex(a); ins[n] = line
}

END {
  finish_function()
  for (e = 1; e <= entry_count; e++) {
    k = entries[e]
    ctas = "?"; limit = "?"; warps = "?"
    if (threads[k] != "?" && dynamic[k] != "?") {
      warps_per_cta = int((threads[k] + 31) / 32)
      ctas = 32; limit = "ctas"
      by_threads = int(2048 / (warps_per_cta * 32))
      if (by_threads < ctas) { ctas = by_threads; limit = "threads" }
      if (regs[k] > 0) {
        per_warp = ceil_to(regs[k] * 32, 256)
        by_regs = int(int(16384 / per_warp) * 4 / warps_per_cta)
        if (by_regs < ctas) { ctas = by_regs; limit = "regs" }
      }
      per_cta = ceil_to(smem[k] + dynamic[k] + 1024, 128)
      by_smem = int(233472 / per_cta)
      if (by_smem < ctas) { ctas = by_smem; limit = "smem" }
      warps = ctas * warps_per_cta
    }
    if (!looped[k]) { hmma[k] = "-"; ldsm[k] = "-"; ldgsts[k] = "-"; bar[k] = "-"; lds[k] = "-" }
    print k, arch, regs[k] + 0, spill_st[k] + 0, spill_ld[k] + 0, smem[k] + 0, dynamic[k], threads[k], ctas, limit, \
      warps, hmma[k], ldsm[k], ldgsts[k], bar[k], lds[k]
  }
}
