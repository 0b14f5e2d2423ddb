#!/usr/bin/env python3
"""PyTorch's scaled_dot_product_attention on the shapes of Perf/device/shapes.json, for the report's comparison.

The same shapes, keys and timing rules as `Attention.Native.Perf gpu-bench` (Perf/Attention.Native.Perf/Device/
GpuBench.cs): shapes run cheapest first; one probe call each (over slow_ms: skipped, and so are costlier shapes of the
same kind, dtype and backend); each sample is enough back-to-back calls to last min_sample_ms; warm-up for warmup_ms;
then `samples` samples (fewer, at least 3, where they would take over max_config_ms) timed with
torch.cuda.Event; the median per call is reported. Each row is written and flushed as it is measured, so that a
process killed at its time limit keeps what it finished. Inputs are fresh torch.randn
(never zeros) in BHSD layout, rotated over ceil(rotate_bytes / bytes of a set) sets (at most max_sets).

Backward rows (kind "backward") time torch.autograd.grad(out, (q, k, v), dO) on an output the forward computed once
per input set (under the same backend), as gpu-bench times our backward after one forward per set; a torch without
autograd (the rehearsal's stand-in) writes them as "not measured".

Each configuration runs twice: forced to the FlashAttention backend (sdpa_kernel(SDPBackend.FLASH_ATTENTION); it has
no fp32, so fp32 rows say n/a) and with PyTorch's default choice. A device-to-device copy of 1 GiB gives the memory
bandwidth ceiling (bytes read + written) for the decode rows.

Usage: python3 torch_sdpa.py --shapes Perf/device/shapes.json --out torch.csv [--budget-seconds 75] [--dry-run]
Without torch or a GPU it writes every row as "not run: ..." and exits 0 with --dry-run, 1 without.
"""

import argparse
import contextlib
import csv
import json
import math
import sys
import time

HEADER = [
    "key", "name", "kind", "dtype", "batch", "heads", "kv_heads", "lq", "lk", "d", "causal", "backend", "status",
    "median_ms", "min_ms", "tflops", "gbps", "samples", "calls_per_sample", "sets", "first_ms",
]
ELEMENT_SIZE = {"fp32": 4, "fp16": 2, "bf16": 2}
COPY_BYTES = 1 << 30


def load_shapes(path):
    """The timing rules and every (shape, dtype, causal) in file order, like BenchShapes.Expand()."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    configs = []
    for group in doc["groups"]:
        for shape in group["shapes"]:
            if shape.get("page_size"):
                continue  # a paged K/V cache: SDPA has none; the same shape's contiguous row carries torch's numbers
            if shape.get("kv"):
                continue  # an 8-bit K/V cache (int8, fp8 e4m3): SDPA reads none; the dtype's row carries torch's numbers
            for dtype in group["dtypes"]:
                if dtype not in ELEMENT_SIZE:
                    raise ValueError(f"unknown dtype {dtype!r} in {path}")
                for causal in group["causal"]:
                    configs.append(dict(shape, kind=group["kind"], dtype=dtype, causal=bool(causal)))
    return doc["timing"], configs


def config_key(c):
    """The row key both tools write (BenchConfig.Key in C#)."""
    return f"{c['name']}-{'causal' if c['causal'] else 'full'}-{c['dtype']}"


def config_flops(c):
    """4*B*H*Lq*Lk*D (backward: 10*B*H*Lq*Lk*D), halved when causal."""
    return (10.0 if c["kind"] == "backward" else 4.0) * c["batch"] * c["heads"] * c["lq"] * c["lk"] * c["d"] * (0.5 if c["causal"] else 1.0)


def config_bytes(c):
    """Q, K, V read and O written once (backward: Q, K, V, O, dO read and dQ, dK, dV written once)."""
    return ELEMENT_SIZE[c["dtype"]] * (2.0 if c["kind"] == "backward" else 1.0) * (
        2.0 * c["batch"] * c["heads"] * c["lq"] * c["d"] + 2.0 * c["batch"] * c["kv_heads"] * c["lk"] * c["d"])


def row(c, backend, status, median=None, minimum=None, samples=None, calls=None, sets=None, first=None):
    def num(x):
        return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.6g}"
    tflops = config_flops(c) / (median * 1e-3) / 1e12 if median else None
    gbps = config_bytes(c) / (median * 1e-3) / 1e9 if median else None
    return [
        config_key(c), c["name"], c["kind"], c["dtype"], c["batch"], c["heads"], c["kv_heads"], c["lq"], c["lk"],
        c["d"], "true" if c["causal"] else "false", backend, status, num(median), num(minimum), num(tflops),
        num(gbps), samples or "", calls or "", sets or "", num(first),
    ]


class RowWriter(list):
    """The rows measured so far, each also written to the CSV file and flushed as it is appended."""

    def __init__(self, path):
        super().__init__()
        self.file = open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115 (open for the whole run)
        self.writer = csv.writer(self.file, lineterminator="\n")
        self.writer.writerow(HEADER)
        self.file.flush()

    def append(self, values):
        super().append(values)
        self.writer.writerow(values)
        self.file.flush()

    def close(self):
        self.file.close()


def say(line):
    print(f"torch-sdpa: {line}", flush=True)


class Bench:
    """Times callables with CUDA events by the rules of shapes.json."""

    def __init__(self, torch, timing, deadline):
        self.torch = torch
        self.timing = timing
        self.deadline = deadline
        self.ms_per_flop = {}
        self.slow_from = {}

    def remaining_ms(self):
        return (self.deadline - time.monotonic()) * 1000.0

    def time_calls(self, fn, calls):
        torch = self.torch
        start = torch.cuda.Event(enable_timing=True)
        stop = torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(calls):
            fn()
        stop.record()
        stop.synchronize()
        return start.elapsed_time(stop) / calls

    def measure(self, family, flops, fn):
        """(status, median, min, samples, calls, first) for fn, which runs one call on the next input set."""
        timing = self.timing
        if family in self.slow_from and flops >= self.slow_from[family]:
            return ("skipped: slow (a cheaper shape of this kind and dtype took over slow_ms)",) + (None,) * 5
        rate = self.ms_per_flop.get(family)
        if rate is not None and rate * flops > timing["slow_ms"]:
            self.slow_from[family] = min(self.slow_from.get(family, math.inf), flops)
            return (f"skipped: slow (predicted {rate * flops:.0f} ms per call)",) + (None,) * 5
        if self.remaining_ms() < 1000:
            return ("skipped: time budget",) + (None,) * 5
        first = self.time_calls(fn, 1)
        self.ms_per_flop[family] = max(self.ms_per_flop.get(family, 0.0), first / flops)
        if first > timing["slow_ms"]:
            self.slow_from[family] = min(self.slow_from.get(family, math.inf), flops)
            return (f"skipped: slow (first call {first:.0f} ms)", None, None, None, None, first)
        calls = int(min(max(math.ceil(timing["min_sample_ms"] / max(first, 1e-3)), 1), 1000))
        n_samples = timing["samples"]
        if timing.get("max_config_ms", 0) > 0:  # fewer samples (at least 3) where they would take over max_config_ms
            n_samples = int(min(max(timing["max_config_ms"] / max(first * calls, 1e-3), min(3, n_samples)), n_samples))
        estimate = first * calls * n_samples + timing["warmup_ms"]
        if estimate > self.remaining_ms():
            return (f"skipped: time budget (needs ~{estimate / 1000:.1f} s)", None, None, None, None, first)
        warm_start = time.monotonic()
        while True:
            self.time_calls(fn, calls)
            if (time.monotonic() - warm_start) * 1000.0 >= timing["warmup_ms"]:
                break
        samples = sorted(self.time_calls(fn, calls) for _ in range(n_samples))
        n = len(samples)
        median = samples[n // 2] if n % 2 else (samples[n // 2 - 1] + samples[n // 2]) / 2
        return ("ok", median, samples[0], n, calls, first)


def run(args, timing, configs, rows):
    """Appends a row per (configuration, backend) to rows (a RowWriter) as it goes, so that a crash keeps what was
    measured."""
    import torch
    import torch.nn.functional as F
    from torch.nn.attention import SDPBackend, sdpa_kernel

    if not torch.cuda.is_available():
        raise RuntimeError("torch.cuda.is_available() is False")
    props = torch.cuda.get_device_properties(0)
    say(f"torch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}, "
        f"{props.name}, {props.multi_processor_count} SMs, {props.total_memory / 2**30:.0f} GiB")
    dtypes = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}
    device = torch.device("cuda")
    bench = Bench(torch, timing, time.monotonic() + args.budget_seconds if args.budget_seconds > 0 else math.inf)

    # The copy ceiling first: 1 GiB device to device, bytes read + written.
    src = torch.randn(COPY_BYTES // 4, device=device)
    dst = torch.empty_like(src)
    copy = {"name": "copy-1gib", "kind": "copy", "dtype": "fp32", "batch": 1, "heads": 1, "kv_heads": 1, "lq": 1,
            "lk": 1, "d": 1, "causal": False}
    status, median, minimum, samples, calls, first = bench.measure("copy", 1.0, lambda: dst.copy_(src))
    copy_row = row(copy, "torch-copy", status, median, minimum, samples, calls, 1, first)
    if median:
        copy_row[HEADER.index("gbps")] = f"{2 * COPY_BYTES / (median * 1e-3) / 1e9:.6g}"
        copy_row[HEADER.index("tflops")] = ""
        say(f"copy 1 GiB: {median:.3f} ms, {2 * COPY_BYTES / (median * 1e-3) / 1e9:.0f} GB/s (read + written)")
    rows.append(copy_row)
    del src, dst

    for c in sorted(configs, key=config_flops):
        if c["kind"] == "backward" and not hasattr(torch, "autograd"):
            for backend in ("torch-flash", "torch-default"):
                rows.append(row(c, backend, f"not measured: this torch ({torch.__version__}) has no autograd"))
            say(f"{config_key(c)}: backward not measured (torch {torch.__version__} has no autograd)")
            continue
        dtype = dtypes[c["dtype"]]
        b, h, hkv, lq, lk, d = c["batch"], c["heads"], c["kv_heads"], c["lq"], c["lk"], c["d"]
        set_bytes = config_bytes(c)
        nsets = int(min(max(math.ceil(timing["rotate_bytes"] / set_bytes), 1), timing["max_sets"]))
        try:
            sets = [(torch.randn(b, h, lq, d, device=device, dtype=dtype),
                     torch.randn(b, hkv, lk, d, device=device, dtype=dtype),
                     torch.randn(b, hkv, lk, d, device=device, dtype=dtype)) for _ in range(nsets)]
        except RuntimeError as e:
            for backend in ("torch-flash", "torch-default"):
                rows.append(row(c, backend, f"error: {str(e).splitlines()[0]}"))
            continue
        gqa = hkv != h
        for backend in ("torch-flash", "torch-default"):
            if backend == "torch-flash" and c["dtype"] == "fp32":
                rows.append(row(c, backend, "n/a: flash has no fp32"))
                continue
            context = (lambda: sdpa_kernel(SDPBackend.FLASH_ATTENTION)) if backend == "torch-flash" \
                else contextlib.nullcontext
            note = ""
            use = sets
            state = {"i": 0}

            def forward(q, k, v):
                if gqa and not note:
                    return F.scaled_dot_product_attention(q, k, v, is_causal=c["causal"], enable_gqa=True)
                return F.scaled_dot_product_attention(q, k, v, is_causal=c["causal"])

            def call():
                q, k, v = use[state["i"]]
                state["i"] = (state["i"] + 1) % len(use)
                return forward(q, k, v)

            def backward_sets():
                """Per input set: the leaves, dO and the forward's output (its graph kept for repeated backwards)."""
                grads = []
                for q, k, v in use:
                    q, k, v = (t.detach().requires_grad_(True) for t in (q, k, v))
                    out = forward(q, k, v)
                    grads.append((q, k, v, out, torch.randn_like(out)))
                state["grads"] = grads

            def backward_call():
                q, k, v, out, d_out = state["grads"][state["i"]]
                state["i"] = (state["i"] + 1) % len(state["grads"])
                return torch.autograd.grad(out, (q, k, v), d_out, retain_graph=True)

            result = None
            with context():
                for attempt in range(2):
                    try:
                        if c["kind"] == "backward":
                            backward_sets()
                        result = bench.measure(f"{c['kind']}/{c['dtype']}/{backend}", config_flops(c),
                                               backward_call if c["kind"] == "backward" else call)
                        break
                    except Exception as e:  # noqa: BLE001 (any failure is recorded; the next shape still runs)
                        message = str(e).splitlines()[0] if str(e) else type(e).__name__
                        if gqa and attempt == 0 and isinstance(e, RuntimeError):
                            # A backend without enable_gqa: repeat K and V to every query head (more bytes moved).
                            note = " (kv expanded)"
                            use = [(q, k.repeat_interleave(h // hkv, dim=1), v.repeat_interleave(h // hkv, dim=1))
                                   for q, k, v in sets]
                            say(f"{config_key(c)} {backend}: enable_gqa failed ({message}); retrying with K, V expanded")
                            continue
                        result = (f"error: {message}",) + (None,) * 5
            state.pop("grads", None)
            status, median, minimum, samples, calls, first = result
            status = status + note if status == "ok" else status
            rows.append(row(c, backend, status, median, minimum, samples, calls, nsets, first))
            if median:
                say(f"{config_key(c)} {backend}: {median:.3f} ms, {config_flops(c) / (median * 1e-3) / 1e12:.1f} TFLOP/s, "
                    f"{set_bytes / (median * 1e-3) / 1e9:.0f} GB/s{note}")
            else:
                say(f"{config_key(c)} {backend}: {status}")
        del sets
        torch.cuda.empty_cache()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default="Perf/device/shapes.json")
    parser.add_argument("--out", required=True)
    parser.add_argument("--budget-seconds", type=float, default=75.0)
    parser.add_argument("--dry-run", action="store_true",
                        help="no GPU expected: check the shapes file and write the rows as 'not run'")
    args = parser.parse_args()
    start = time.monotonic()
    timing, configs = load_shapes(args.shapes)
    for name in ("samples", "warmup_ms", "min_sample_ms", "slow_ms", "rotate_bytes", "max_sets"):
        if name not in timing:
            raise ValueError(f"{args.shapes}: timing.{name} is missing")
    say(f"{len(configs)} configurations from {args.shapes}")

    reason = None
    try:
        import torch  # noqa: F401  (only to know whether it is there)
        if args.dry_run:
            reason = "dry run"
        elif not torch.cuda.is_available():
            reason = "no device: torch.cuda.is_available() is False"
    except ImportError as e:
        reason = f"torch not importable: {e}"

    rows = RowWriter(args.out)
    if reason is not None:
        say(f"not run ({reason})")
        for c in configs:
            for backend in ("torch-flash", "torch-default"):
                rows.append(row(c, backend, f"not run: {reason}"))
        rows.close()
        say(f"wrote {args.out}")
        return 0 if args.dry_run else 1

    crashed = None
    try:
        run(args, timing, configs, rows)
    except Exception as e:  # noqa: BLE001 (write what was measured, then fail)
        crashed = f"{type(e).__name__}: {e}"
        say(f"FAILED: {crashed}")
        rows.append(row({"name": "run", "kind": "error", "dtype": "fp32", "batch": 1, "heads": 1, "kv_heads": 1,
                         "lq": 1, "lk": 1, "d": 1, "causal": False}, "torch", f"error: {crashed}"))
    rows.close()
    ok = sum(1 for r in rows if r[HEADER.index("status")].startswith("ok"))
    errors = sum(1 for r in rows if r[HEADER.index("status")].startswith("error"))
    say(f"wrote {args.out}: {ok} timed, {errors} failed, {len(rows) - ok - errors} skipped or n/a; "
        f"{time.monotonic() - start:.1f} s")
    return 1 if errors or crashed else 0


if __name__ == "__main__":
    sys.exit(main())
