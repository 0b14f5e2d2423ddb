using System.Globalization;
using System.Text;
using System.Xml.Linq;

namespace Attention.Native.Perf.Device;

/// <summary>
/// Perf/device/run.sh's report.md: the steps, the machine (with where libcuda and cuBLAS come from), the kernel modules
/// as the driver compiled them (modules.csv), the test results per class (tests.xml), the correctness sweep (sweep.csv)
/// and the benchmark of the CUDA backend against PyTorch SDPA (bench.csv joined with torch.csv on the key). Every input
/// may be missing or cut short (a step that failed, timed out or did not run); the report then says so. run.sh renders
/// it after every step, so that a run killed part-way still leaves a report of what it finished.
/// </summary>
internal static class DeviceReport
{
    /// <summary>The <c>run</c> attribute run.sh gives each merged <c>assembly</c> of tests.xml, and its label.</summary>
    public static readonly (string Run, string Label)[] TestRuns =
    [
        ("gpu", "GPU classes"),
        ("rest", "rest of the suite"),
    ];

    /// <summary>The report.</summary>
    /// <param name="folder">$OUT: tests.xml, modules.csv, sweep.csv, bench.csv, torch.csv.</param>
    /// <param name="logs">run.sh's own records: steps.tsv, machine.txt, modules.log; null for none.</param>
    /// <param name="shapesPath">shapes.json, whose order the benchmark tables follow; null for the CSV's order.</param>
    /// <param name="mode">What kind of run this was.</param>
    /// <param name="kernelReportPath">The pack's kernel-report.csv (the kernels' static metrics); null for none.</param>
    public static string Render(string folder, string? logs, string? shapesPath, string mode, string? kernelReportPath = null)
    {
        var text = new StringBuilder();
        var culture = CultureInfo.InvariantCulture;
        text.AppendLine(culture, $"# Attention.Native device run — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC").AppendLine();
        text.AppendLine(culture, $"Mode: **{mode}**. Written by `bash Perf/device/run.sh` (Perf/device/README.md); raw logs beside this file.").AppendLine();
        Steps(text, LogFile(logs, "steps.tsv"));
        text.AppendLine("## Machine").AppendLine();
        if (LogFile(logs, "machine.txt") is { } machine)
        {
            text.AppendLine("```text").AppendLine(File.ReadAllText(machine).TrimEnd()).AppendLine("```").AppendLine();
        }
        else
        {
            text.AppendLine("(no machine description was recorded)").AppendLine();
        }

        DeviceReportModules.Render(text, Path.Combine(folder, "modules.csv"), LogFile(logs, "modules.log"));
        Tests(text, Path.Combine(folder, "tests.xml"));
        Sweep(text, Path.Combine(folder, "sweep.csv"));
        Bench(text, Path.Combine(folder, "bench.csv"), Path.Combine(folder, "torch.csv"), shapesPath);
        var bench = Path.Combine(folder, "bench.csv") is var benchPath && File.Exists(benchPath) ? InBenchOrder(Csv.Read(benchPath), shapesPath) : [];
        DeviceReportKernels.Render(text, bench, kernelReportPath, Path.Combine(folder, "modules.csv"));
        return text.ToString();
    }

    private static string? LogFile(string? logs, string name) =>
        logs is not null && Path.Combine(logs, name) is var path && File.Exists(path) ? path : null;

    private static void Steps(StringBuilder text, string? stepsFile)
    {
        text.AppendLine("## Steps").AppendLine();
        if (stepsFile is null)
        {
            text.AppendLine("(no step log)").AppendLine();
            return;
        }

        text.AppendLine("| step | result | seconds | note |").AppendLine("|---|---|---:|---|");
        foreach (string line in File.ReadLines(stepsFile))
        {
            string[] f = line.Split('\t');
            if (f.Length >= 3)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"| {Cell(f[0])} | {Cell(f[1])} | {Cell(f[2])} | {Cell(f.Length > 3 ? f[3] : string.Empty)} |");
            }
        }

        text.AppendLine();
    }

    /// <summary>Per run (GPU classes, the rest) and per class: totals, failures with their first line, skip reasons.</summary>
    private static void Tests(StringBuilder text, string path)
    {
        var culture = CultureInfo.InvariantCulture;
        text.AppendLine("## Tests").AppendLine();
        if (!File.Exists(path))
        {
            text.AppendLine("tests.xml was not produced.").AppendLine();
            return;
        }

        List<XElement> assemblies;
        try
        {
            assemblies = [.. XDocument.Load(path).Descendants("assembly")];
        }
        catch (System.Xml.XmlException e)
        {
            text.AppendLine(culture, $"tests.xml is unreadable: {Cell(e.Message)}").AppendLine();
            return;
        }

        text.AppendLine("| run | class | outcome | total | passed | failed | skipped | seconds |").AppendLine("|---|---|---|---:|---:|---:|---:|---:|");
        var failures = new List<string>();
        var skips = new Dictionary<string, int>(StringComparer.Ordinal);
        long total = 0;
        long passed = 0;
        long failed = 0;
        long skipped = 0;
        foreach (var (run, label) in TestRuns)
        {
            foreach (var assembly in assemblies.Where(a => (string?)a.Attribute("run") == run))
            {
                long Attr(string name) => long.TryParse((string?)assembly.Attribute(name), NumberStyles.Integer, culture, out long v) ? v : 0;
                long runFailed = Attr("failed") + Attr("errors");
                total += Attr("total");
                passed += Attr("passed");
                failed += runFailed;
                skipped += Attr("skipped");
                string name = ((string?)assembly.Attribute("class") ?? "(all)").Replace("Attention.Native.Tests.", string.Empty, StringComparison.Ordinal);
                text.AppendLine(culture,
                    $"| {label} | {Cell(name)} | {Cell((string?)assembly.Attribute("outcome") ?? "finished")} | {Attr("total")} | {Attr("passed")} | {runFailed} | {Attr("skipped")} | {(string?)assembly.Attribute("time")} |");
                foreach (var test in assembly.Descendants("test"))
                {
                    string result = (string?)test.Attribute("result") ?? string.Empty;
                    if (result == "Fail")
                    {
                        string message = (string?)test.Element("failure")?.Element("message") ?? string.Empty;
                        failures.Add($"`{test.Attribute("name")?.Value}`: {FirstLine(message)}");
                    }
                    else if (result == "Skip")
                    {
                        string reason = FirstLine((string?)test.Element("reason") ?? string.Empty);
                        skips[reason] = skips.GetValueOrDefault(reason) + 1;
                    }
                }

                foreach (var error in assembly.Element("errors")?.Elements("error") ?? [])
                {
                    failures.Add($"error ({error.Attribute("type")?.Value} {error.Attribute("name")?.Value}): {FirstLine((string?)error.Element("failure")?.Element("message") ?? string.Empty)}");
                }
            }
        }

        text.AppendLine(culture, $"| **all** | | | {total} | {passed} | {failed} | {skipped} | |").AppendLine();
        if (failures.Count > 0)
        {
            text.AppendLine(culture, $"Failures ({failures.Count}{(failures.Count > 40 ? ", first 40" : string.Empty)}):").AppendLine();
            foreach (string failure in failures.Take(40))
            {
                text.AppendLine(culture, $"- {failure}");
            }

            text.AppendLine();
        }

        if (skips.Count > 0)
        {
            text.AppendLine("Skip reasons:").AppendLine();
            foreach (var (reason, count) in skips.OrderByDescending(s => s.Value))
            {
                text.AppendLine(culture, $"- {count} × {reason}");
            }

            text.AppendLine();
        }
    }

    private static void Sweep(StringBuilder text, string path)
    {
        var culture = CultureInfo.InvariantCulture;
        text.AppendLine("## Correctness sweep (CUDA and CPU against the float64 reference)").AppendLine();
        if (!File.Exists(path))
        {
            text.AppendLine("sweep.csv was not produced.").AppendLine();
            return;
        }

        foreach (string line in File.ReadLines(path).Where(l => l.StartsWith("# ", StringComparison.Ordinal)))
        {
            text.AppendLine(culture, $"- {line[2..]}");
        }

        var rows = Csv.Read(path);
        text.AppendLine();
        text.AppendLine("| kernel | dtype | cases | max rel err CUDA | max rel err CPU | bound | max ‖cuda−cpu‖/‖ref‖ | max \\|cuda−cpu\\| | NaN (cuda/cpu) | fully masked rows | failures |");
        text.AppendLine("|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|");
        foreach (var group in rows.GroupBy(r => (Kernel: Csv.Text(r, "kernel") is { Length: > 0 } k ? k : "auto", Dtype: Csv.Text(r, "dtype"))))
        {
            var g = group.ToList();
            string bounds = string.Join(", ", g.Select(r => Csv.Number(r, "tolerance")).Distinct().Order().Select(v => v.ToString("0.0E+0", culture)));
            text.AppendLine(culture,
                $"| {group.Key.Kernel} | {group.Key.Dtype} | {g.Count} | {Max(g, "cuda_rel_err")} | {Max(g, "cpu_rel_err")} | {bounds} | {Max(g, "cuda_cpu_rel_diff")} | " +
                $"{Max(g, "cuda_cpu_max_abs")} | {Sum(g, "cuda_nans")}/{Sum(g, "cpu_nans")} | {Sum(g, "masked_rows")} | " +
                $"{g.Count(r => Csv.Text(r, "status") == "fail")} |");
        }

        var failed = rows.Where(r => Csv.Text(r, "status") == "fail").ToList();
        text.AppendLine();
        if (failed.Count > 0)
        {
            text.AppendLine(culture, $"Failed cases ({failed.Count}{(failed.Count > 30 ? ", first 30" : string.Empty)}; `sweep --seed` with the run's seed reproduces them):").AppendLine();
            foreach (var r in failed.Take(30))
            {
                text.AppendLine(culture,
                    $"- {Csv.Text(r, "kernel")} case {Csv.Text(r, "index")} {Csv.Text(r, "dtype")} B={Csv.Text(r, "batch")} Hq={Csv.Text(r, "hq")} Hkv={Csv.Text(r, "hkv")} " +
                    $"Lq={Csv.Text(r, "lq")} Lk={Csv.Text(r, "lk")} D={Csv.Text(r, "d")} Dv={Csv.Text(r, "dv")} {Csv.Text(r, "layout")} {Csv.Text(r, "api")}: " +
                    $"{Cell(Csv.Text(r, "message"))} (features: {Csv.Text(r, "features")})");
            }

            text.AppendLine();
        }
    }

    private static void Bench(StringBuilder text, string oursPath, string torchPath, string? shapesPath)
    {
        var culture = CultureInfo.InvariantCulture;
        text.AppendLine("## Benchmark: Attention.Native CUDA vs torch.nn.functional.scaled_dot_product_attention").AppendLine();
        var ours = InBenchOrder(File.Exists(oursPath) ? Csv.Read(oursPath) : [], shapesPath);
        var torch = File.Exists(torchPath) ? Csv.Read(torchPath) : [];
        if (ours.Count == 0)
        {
            text.AppendLine("bench.csv (gpu-bench) was not produced.");
        }

        if (torch.Count == 0)
        {
            text.AppendLine("torch.csv (torch_sdpa.py) was not produced.");
        }

        text.AppendLine(
            "Same shapes, same run, both timed with CUDA events (median per call; Perf/device/shapes.json). TFLOP/s = " +
            "4·B·H·Lq·Lk·D / time, halved when causal; GB/s = bytes of Q, K, V read and O written once / time. `flash` is " +
            "SDPA forced to the FlashAttention backend, `default` SDPA's own choice. Ratios are ours / theirs (speed: >1 = ours faster).").AppendLine();
        var torchByKey = torch.GroupBy(r => Csv.Text(r, "key")).ToDictionary(g => g.Key, g => g.ToList());
        var copy = torch.FirstOrDefault(r => Csv.Text(r, "kind") == "copy");
        double copyGbps = copy is null ? double.NaN : Csv.Number(copy, "gbps");
        text.AppendLine(culture, $"Device-to-device copy (torch, 1 GiB, bytes read + written): {(double.IsNaN(copyGbps) ? Csv.Text(copy ?? [], "status") is { Length: > 0 } s ? s : "not measured" : $"{copyGbps:F0} GB/s")}.").AppendLine();
        foreach (var variant in ours.GroupBy(r => Csv.Text(r, "kernel").Split(' ')[0]))
        {
            // Forced variants' rows per short status: "unsupported" reasons differ only in the shape they name.
            Statuses(text, $"gpu-bench (ours, {(variant.Key.Length > 0 ? variant.Key : "auto")})", variant.Select(r => new Dictionary<string, string>(r) { ["status"] = Short(Csv.Text(r, "status")) }));
        }

        Statuses(text, "torch flash", torch.Where(r => Csv.Text(r, "backend") == "torch-flash"));
        Statuses(text, "torch default", torch.Where(r => Csv.Text(r, "backend") == "torch-default"));
        text.AppendLine();
        var errors = ours.Concat(torch).Where(r => Csv.Text(r, "status").StartsWith("error", StringComparison.Ordinal)).ToList();
        if (errors.Count > 0)
        {
            text.AppendLine(culture, $"Failed rows ({errors.Count}{(errors.Count > 40 ? ", first 40" : string.Empty)}):").AppendLine();
            foreach (var r in errors.Take(40))
            {
                string who = Csv.Text(r, "backend") == "attention.native" ? Kernel(r) : Csv.Text(r, "backend");
                text.AppendLine(culture, $"- `{Csv.Text(r, "key")}` {who}: {Cell(FirstLine(Csv.Text(r, "status")))}");
            }

            text.AppendLine();
        }
        if (!ours.Any(IsOk) && !torch.Any(r => IsOk(r) && Csv.Text(r, "kind") != "copy"))
        {
            text.AppendLine("Nothing was timed, so there is no table.").AppendLine();
            return;
        }


        text.AppendLine("### Attention (FlashAttention-3 paper sweep: B·L = 16k, H·D = 2048)").AppendLine();
        text.AppendLine("One row per kernel variant of ours (`auto (…)`: the backend's own choice, named; the others forced with " +
            "`ATTENTION_NATIVE_CUDA_KERNEL`); variants that cannot run a shape or that `auto` already picks are counted above, not listed. " +
            "hopper/flash and hopper/mma: the Hopper kernel's timed row of the shape (forced, or `auto (hopper)`) against torch's " +
            "flash and our mma kernel's row (forced, or `auto (mma)`), the same on each row of the shape.").AppendLine();
        text.AppendLine("| shape | causal | dtype | kernel | ours ms | ours TFLOP/s | flash TFLOP/s | default TFLOP/s | ours/flash | ours/default | hopper/flash | hopper/mma |");
        text.AppendLine("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        var ourByKey = ours.Where(IsOk).GroupBy(r => Csv.Text(r, "key")).ToDictionary(g => g.Key, g => g.ToList());
        Dictionary<string, string>? Timed(string key, string kernel) => ourByKey.GetValueOrDefault(key)?.FirstOrDefault(
            r => Csv.Text(r, "kernel") == kernel || Csv.Text(r, "kernel") == $"auto ({kernel})");
        foreach (var r in ours.Where(r => Csv.Text(r, "kind") is not "decode" and not "backward" && Listed(r)))
        {
            var (flash, fallback) = Torch(torchByKey, r);
            var hopper = Timed(Csv.Text(r, "key"), "hopper");
            text.AppendLine(culture,
                $"{Row(r, flash, fallback)} {(hopper is null ? "—" : Ratio(hopper, flash, "tflops"))} | " +
                $"{(hopper is null ? "—" : Ratio(hopper, Timed(Csv.Text(r, "key"), "mma"), "tflops"))} |");
        }

        text.AppendLine();
        text.AppendLine("### Backward (FlashAttention-2 paper's backward shapes: B·L = 16k, H·D = 2048)").AppendLine();
        text.AppendLine("ScaledDotProductAttentionBackward (dQ, dK, dV from Q, K, V, O, the log-sum-exp and dO; the forward " +
            "runs once per input set, untimed) against torch.autograd.grad(out, (q, k, v), dO). TFLOP/s = 10·B·H·Lq·Lk·D / time, " +
            "halved when causal. The kernel is the middle launch's family (mma or simt).").AppendLine();
        text.AppendLine("| shape | causal | dtype | kernel | ours ms | ours TFLOP/s | flash TFLOP/s | default TFLOP/s | ours/flash | ours/default |");
        text.AppendLine("|---|---|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var r in ours.Where(r => Csv.Text(r, "kind") == "backward" && Listed(r)))
        {
            var (flash, fallback) = Torch(torchByKey, r);
            text.AppendLine(Row(r, flash, fallback));
        }

        text.AppendLine();
        text.AppendLine("### Decode (memory-bound: GB/s against the copy bandwidth)").AppendLine();
        text.AppendLine("Rows with a page size read K and V from a paged cache (shuffled pages through a block table, uploaded with " +
            "each call; torch has no paged SDPA); paged/contiguous is their GB/s over the same shape's contiguous row of the same kernel. " +
            "Rows with a K/V format read an 8-bit cache (int8 with a float scale per key, fp8 e4m3 with one per head: the split-KV " +
            "kernels, torch has no such SDPA); their GB/s counts the bytes read (K/V bytes, scales, table), and 8-bit/16-bit is their " +
            "time over the same shape's row in the dtype.").AppendLine();
        text.AppendLine("| shape | dtype | K/V | kernel | page | ours µs | ours GB/s | flash GB/s | default GB/s | ours/flash | ours/default | ours % of copy | best torch % of copy | paged/contiguous | 8-bit/16-bit time |");
        text.AppendLine("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in ours.Where(r => Csv.Text(r, "kind") == "decode" && Listed(r)))
        {
            var theirs = torchByKey.GetValueOrDefault(Csv.Text(r, "key")) ?? [];
            var flash = theirs.FirstOrDefault(t => Csv.Text(t, "backend") == "torch-flash");
            var fallback = theirs.FirstOrDefault(t => Csv.Text(t, "backend") == "torch-default");
            double best = new[] { flash, fallback }.Where(t => t is not null && Csv.Text(t, "status").StartsWith("ok", StringComparison.Ordinal))
                .Select(t => Csv.Number(t!, "gbps")).DefaultIfEmpty(double.NaN).Max();
            string microseconds = Csv.Text(r, "status") == "ok" ? (Csv.Number(r, "median_ms") * 1000).ToString("F1", culture) : Short(Csv.Text(r, "status"));
            text.AppendLine(culture,
                $"| {Csv.Text(r, "name")} | {Csv.Text(r, "dtype")} | {(Csv.Text(r, "kv") is { Length: > 0 } kv ? kv : "dtype")} | {Kernel(r)} | {(Csv.Text(r, "page_size") is { Length: > 0 } page ? page : "—")} | {microseconds} | {(IsOk(r) ? Value(r, "gbps", "F0") : "—")} | {Value(flash, "gbps", "F0")} | " +
                $"{Value(fallback, "gbps", "F0")} | {Ratio(r, flash, "gbps")} | {Ratio(r, fallback, "gbps")} | {Percent(Csv.Text(r, "status") == "ok" ? Csv.Number(r, "gbps") : double.NaN, copyGbps)} | {Percent(best, copyGbps)} | " +
                $"{(Csv.Text(r, "page_size").Length > 0 ? Ratio(r, Contiguous(ours, r, Csv.Text(r, "kv")), "gbps") : "—")} | " +
                $"{(Csv.Text(r, "kv").Length > 0 ? Ratio(r, Contiguous(ours, r, string.Empty, Csv.Text(r, "page_size")), "median_ms") : "—")} |");
        }

        text.AppendLine();
    }

    /// <summary>The decode row of a row's shape, dtype and kernel variant with K/V format <paramref name="kv"/> (empty:
    /// the dtype) and page size <paramref name="pageSize"/> (empty: contiguous); null where absent.</summary>
    private static Dictionary<string, string>? Contiguous(
        IEnumerable<Dictionary<string, string>> ours, Dictionary<string, string> paged, string kv, string pageSize = "") =>
        ours.FirstOrDefault(r => Csv.Text(r, "kind") == "decode" && Csv.Text(r, "page_size") == pageSize && Csv.Text(r, "kv") == kv
            && Csv.Text(r, "kernel").Split(' ')[0] == Csv.Text(paged, "kernel").Split(' ')[0]
            && new[] { "dtype", "batch", "heads", "kv_heads", "lq", "lk", "d" }.All(c => Csv.Text(r, c) == Csv.Text(paged, c)));

    /// <summary>torch's flash and default rows of <paramref name="ours"/>'s key (null where absent).</summary>
    private static (Dictionary<string, string>? Flash, Dictionary<string, string>? Fallback) Torch(
        Dictionary<string, List<Dictionary<string, string>>> torchByKey, Dictionary<string, string> ours)
    {
        var theirs = torchByKey.GetValueOrDefault(Csv.Text(ours, "key")) ?? [];
        return (theirs.FirstOrDefault(t => Csv.Text(t, "backend") == "torch-flash"), theirs.FirstOrDefault(t => Csv.Text(t, "backend") == "torch-default"));
    }

    /// <summary>A throughput table's row up to the ours/default ratio (ends with its cell's closing bar).</summary>
    private static string Row(Dictionary<string, string> r, Dictionary<string, string>? flash, Dictionary<string, string>? fallback) =>
        string.Create(CultureInfo.InvariantCulture,
            $"| {Csv.Text(r, "name")} | {(Csv.Text(r, "causal") == "true" ? "causal" : "full")} | {Csv.Text(r, "dtype")} | {Kernel(r)} | " +
            $"{Value(r, "median_ms", "F2")} | {(IsOk(r) ? Value(r, "tflops", "F1") : "—")} | {Value(flash, "tflops", "F1")} | {Value(fallback, "tflops", "F1")} | " +
            $"{Ratio(r, flash, "tflops")} | {Ratio(r, fallback, "tflops")} |");

    /// <summary>gpu-bench's rows (appended per process, each cheapest first) in shapes.json's order, variants in the
    /// order auto, hopper, mma, splitkv, simt within each configuration.</summary>
    private static List<Dictionary<string, string>> InBenchOrder(List<Dictionary<string, string>> rows, string? shapesPath)
    {
        if (shapesPath is null || !File.Exists(shapesPath))
        {
            return rows;
        }

        var order = BenchShapes.Load(shapesPath).Expand().Select((c, i) => (c.Key, i)).ToDictionary(x => x.Key, x => x.i);
        string[] kernels = ["auto", "hopper", "mma", "splitkv", "simt"];
        return
        [
            .. rows.OrderBy(r => order.GetValueOrDefault(Csv.Text(r, "key"), int.MaxValue))
                .ThenBy(r => Array.IndexOf(kernels, Csv.Text(r, "kernel").Split(' ')[0]) is int k and >= 0 ? k : kernels.Length),
        ];
    }

    /// <summary>Rows the tables list: not a forced variant that cannot run the shape or that auto already picks.</summary>
    internal static bool Listed(Dictionary<string, string> row) =>
        !Csv.Text(row, "status").StartsWith("unsupported", StringComparison.Ordinal) && Csv.Text(row, "status") != "same as auto";

    private static string Kernel(Dictionary<string, string> row) => Csv.Text(row, "kernel") is { Length: > 0 } k ? Cell(k) : "auto";

    private static bool IsOk(Dictionary<string, string> row) => Csv.Text(row, "status").StartsWith("ok", StringComparison.Ordinal);

    /// <summary>One line counting the rows of each status (the tables show only their short form).</summary>
    private static void Statuses(StringBuilder text, string label, IEnumerable<Dictionary<string, string>> rows)
    {
        var counts = rows.GroupBy(r => Csv.Text(r, "status")).Select(g => $"{g.Count()} × {Cell(g.Key)}").ToList();
        if (counts.Count > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- {label}: {string.Join("; ", counts)}");
        }
    }

    /// <summary>"skipped: slow (first call 1234 ms)" → "skipped: slow"; "n/a: …" → "n/a"; "not run: …" → "not run".</summary>
    internal static string Short(string status)
    {
        string head = status.Split(" (")[0];
        foreach (string prefix in new[] { "not run", "n/a", "error", "unsupported" })
        {
            if (head.StartsWith(prefix, StringComparison.Ordinal))
            {
                return prefix;
            }
        }

        return Cell(head);
    }

    /// <summary>The number when the row's status is ok (with a note such as "(kv expanded)"), else the short status.</summary>
    private static string Value(Dictionary<string, string>? row, string column, string format)
    {
        if (row is null)
        {
            return "—";
        }

        string status = Csv.Text(row, "status");
        if (!status.StartsWith("ok", StringComparison.Ordinal))
        {
            return Short(status);
        }

        string value = Csv.Number(row, column).ToString(format, CultureInfo.InvariantCulture);
        return status == "ok" ? value : $"{value} {Cell(status[2..].Trim())}";
    }

    private static string Ratio(Dictionary<string, string> ours, Dictionary<string, string>? theirs, string column)
    {
        if (theirs is null || Csv.Text(ours, "status") != "ok" || !Csv.Text(theirs, "status").StartsWith("ok", StringComparison.Ordinal))
        {
            return "—";
        }

        double ratio = Csv.Number(ours, column) / Csv.Number(theirs, column);
        return double.IsNaN(ratio) ? "—" : ratio.ToString("G3", CultureInfo.InvariantCulture);
    }

    private static string Percent(double value, double of) =>
        double.IsNaN(value) || double.IsNaN(of) || of <= 0 ? "—" : (100 * value / of).ToString("F0", CultureInfo.InvariantCulture) + " %";

    internal static string Max(List<Dictionary<string, string>> rows, string column)
    {
        var values = rows.Select(r => Csv.Number(r, column)).Where(v => !double.IsNaN(v)).ToList();
        return values.Count == 0 ? "—" : values.Max().ToString("0.00E+0", CultureInfo.InvariantCulture);
    }

    private static string Sum(List<Dictionary<string, string>> rows, string column)
    {
        var values = rows.Select(r => Csv.Number(r, column)).Where(v => !double.IsNaN(v)).ToList();
        return values.Count == 0 ? "—" : values.Sum().ToString("F0", CultureInfo.InvariantCulture);
    }

    internal static string FirstLine(string text)
    {
        string line = text.Trim().Split('\n')[0].Trim();
        return line.Length > 300 ? line[..300] + "…" : line;
    }

    internal static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace('\n', ' ');
}
