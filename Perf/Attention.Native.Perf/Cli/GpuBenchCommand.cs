using System.Diagnostics;
using Attention.Native.Cpu;
using Attention.Native.Cuda;
using Attention.Native.Perf.Device;
using Attention.Native.Perf.Report;
using Spectre.Console.Cli;

namespace Attention.Native.Perf.Cli;

/// <summary>
/// <c>gpu-bench</c>: times the CUDA backend with CUDA events on the shapes of Perf/device/shapes.json (the same ones
/// Perf/device/torch_sdpa.py times with PyTorch) and appends one CSV row per configuration and kernel variant as it is
/// measured (a process killed at its time limit keeps what it finished). Exit code 1 when CUDA is unavailable (outside
/// <c>--dry-run</c>) or a configuration failed; slow or over-budget configurations are skipped, not failed.
/// </summary>
internal sealed class GpuBenchCommand : Command<GpuBenchSettings>
{
    public override int Execute(CommandContext context, GpuBenchSettings settings, CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        Say(MachineDescription.Text);
        var shapes = BenchShapes.Load(settings.Shapes);
        var configs = shapes.Expand();
        Say($"gpu-bench: {configs.Count} configurations from {settings.Shapes}.");
        var autoMeasured = settings.Out is { } existing && File.Exists(existing) ? AutoRowsMeasured(existing) : [];
        using var csv = settings.Out is { } path ? new CsvAppender(path, BenchResult.CsvHeader) : null;
        var results = new List<BenchResult>();
        void Record(BenchResult result)
        {
            results.Add(result);
            csv?.Append(result.CsvLine());
        }

        bool ok;
        bool available = CudaBackend.IsAvailable(out string reason);
        if (!available || settings.DryRun)
        {
            Say($"gpu-bench: CUDA: not run ({(available ? "dry run; " : "no device: ")}{reason})");
            StandIn(configs, shapes.Timing, available ? "dry run" : "no device", Record);
            ok = settings.DryRun;
        }
        else
        {
            long deadline = settings.BudgetSeconds > 0
                ? start + (long)(settings.BudgetSeconds * Stopwatch.Frequency)
                : long.MaxValue;
            Measure(configs, shapes.Timing, KernelVariants.Parse(settings.Kernels), deadline, autoMeasured, Record);
            ok = results.All(r => !r.Status.StartsWith("error", StringComparison.Ordinal));
        }

        if (csv is not null)
        {
            Say($"gpu-bench: appended {results.Count} rows to {csv.Path}");
        }

        Say($"gpu-bench: {results.Count(r => r.Status == "ok")} timed, {results.Count(r => r.Status.StartsWith("skipped", StringComparison.Ordinal))} skipped, " +
            $"{results.Count(r => r.Status.StartsWith("error", StringComparison.Ordinal))} failed, {results.Count(r => r.Status.StartsWith("not run", StringComparison.Ordinal))} not run; " +
            $"{Stopwatch.GetElapsedTime(start).TotalSeconds:F1} s");
        return ok ? ExitCodes.Success : ExitCodes.Failure;
    }

    /// <summary>
    /// Every configuration, cheapest first, on every kernel variant in turn (so that a budget cut drops the costliest
    /// shapes of all variants, not a whole variant). A forced variant that cannot run a shape gets a row saying so, and
    /// one whose shape the automatic choice already timed with it (in this process, or in <paramref name="autoMeasured"/>:
    /// an earlier process's rows in the same file) a "same as auto" row, rather than a second timing. A variant whose
    /// backend cannot be created, or whose call throws, gets an error row per configuration: the others still run.
    /// </summary>
    private static void Measure(
        IReadOnlyList<BenchConfig> configs, BenchTiming timing, IReadOnlyList<string> kernels, long deadline,
        HashSet<(string Key, string Kernel)> autoMeasured, Action<BenchResult> record)
    {
        var variants = new List<(string Kernel, GpuBench? Bench, string? Failure)>();
        CudaBackend? autoBackend = null;
        var backends = new List<CudaBackend>();
        try
        {
            foreach (string kernel in kernels)
            {
                try
                {
                    var backend = KernelVariants.CreateBackend(kernel);
                    backends.Add(backend);
                    autoBackend ??= kernel == KernelVariants.Auto ? backend : null;
                    var bench = new GpuBench(backend, timing, deadline, Say);
                    Say($"gpu-bench: kernel {kernel}: {backend.Description}");
                    bench.WarmUpKernels(configs.Select(c => c.Dtype));
                    variants.Add((kernel, bench, null));
                }
                catch (Exception e)
                {
                    Say($"gpu-bench: kernel {kernel}: FAILED to start: {e.GetType().Name}: {e.Message}");
                    variants.Add((kernel, null, $"{e.GetType().Name}: {e.Message}"));
                }
            }

            foreach (var config in configs.OrderBy(c => c.Flops))
            {
                // What auto runs (its label), from the library's own preparation of the call; a forced variant's row
                // is "same as auto" where auto timed the shape with it, here or in an earlier process (its label).
                string? auto = autoBackend is null ? null : KernelVariants.AutoChoice(autoBackend, config);
                foreach (var (kernel, bench, failure) in variants)
                {
                    string label = kernel == KernelVariants.Auto ? $"auto ({auto})" : kernel;
                    var result = bench is null ? new BenchResult(config, $"error: backend: {failure}") { Kernel = label }
                        : kernel == KernelVariants.Auto ? bench.MeasureOne(config, kernel) with { Kernel = label }
                        : KernelVariants.Unsupported(kernel, config) is { } why ? new BenchResult(config, $"unsupported: {why}") { Kernel = kernel }
                        : autoMeasured.Contains((config.Key, kernel)) ? new BenchResult(config, "same as auto") { Kernel = kernel }
                        : bench.MeasureOne(config, kernel);
                    if (kernel == KernelVariants.Auto && result.Status == "ok" && auto is not null)
                    {
                        autoMeasured.Add((config.Key, auto));
                    }

                    record(result);
                }
            }
        }
        finally
        {
            foreach (var backend in backends)
            {
                backend.Dispose();
            }
        }
    }

    /// <summary>The (key, kernel) pairs an earlier process timed as <c>auto (kernel)</c> in the CSV at <paramref name="path"/>.</summary>
    private static HashSet<(string Key, string Kernel)> AutoRowsMeasured(string path) =>
    [
        .. Csv.Read(path)
            .Where(r => Csv.Text(r, "status") == "ok" && Csv.Text(r, "kernel").StartsWith("auto (", StringComparison.Ordinal))
            .Select(r => (Csv.Text(r, "key"), Csv.Text(r, "kernel")["auto (".Length..].TrimEnd(')'))),
    ];

    /// <summary>
    /// Without a device, the same measuring code runs on a CPU backend with every shape cut to one batch entry and one
    /// head, 3 samples and a 10 s budget: it exercises the ordering, skip rules, allocation, rotation and CSV. Its rows
    /// say "not run: …" and are labelled <c>cpu-stand-in</c>; its times are no GPU result.
    /// </summary>
    private static void StandIn(IReadOnlyList<BenchConfig> configs, BenchTiming timing, string why, Action<BenchResult> record)
    {
        Say("gpu-bench: exercising the timing code on a CPU stand-in (B=1, H=1, 3 samples, 10 s; not a GPU result):");
        var small = configs.Select(c => c with { Shape = c.Shape with { Batch = 1, Heads = 1, KvHeads = 1 } }).ToList();
        using var cpu = new CpuBackend();
        var bench = new GpuBench(cpu, timing with { Samples = 3, WarmupMs = 5, SlowMs = 100 },
            Stopwatch.GetTimestamp() + (10 * Stopwatch.Frequency), line => Say($"  {line}"));
        var measured = bench.Run(small).ToDictionary(r => r.Config.Key);
        foreach (var c in configs)
        {
            record(new BenchResult(c, $"not run: {why} (stand-in: {measured[c.Key].Status})") { Backend = "cpu-stand-in" });
        }
    }

    private static void Say(string line) => Console.Out.WriteLine(line);
}
