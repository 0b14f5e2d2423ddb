using System.Diagnostics;
using System.Text;
using Attention.Native.Cpu;
using Attention.Native.Cuda;
using Attention.Native.Perf.Device;
using Attention.Native.Perf.Report;
using Spectre.Console.Cli;

namespace Attention.Native.Perf.Cli;

/// <summary>
/// <c>gpu-bench</c>: times the CUDA backend with CUDA events on the shapes of Perf/device/shapes.json (the same ones
/// Perf/device/torch_sdpa.py times with PyTorch) and writes a CSV. Exit code 1 when CUDA is unavailable (outside
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
        List<BenchResult> results;
        bool ok;
        bool available = CudaBackend.IsAvailable(out string reason);
        if (!available || settings.DryRun)
        {
            Say($"gpu-bench: CUDA: not run ({(available ? "dry run; " : "no device: ")}{reason})");
            results = StandIn(configs, shapes.Timing, available ? "dry run" : "no device");
            ok = settings.DryRun;
        }
        else
        {
            long deadline = settings.BudgetSeconds > 0
                ? start + (long)(settings.BudgetSeconds * Stopwatch.Frequency)
                : long.MaxValue;
            results = Measure(configs, shapes.Timing, KernelVariants.Parse(settings.Kernels), deadline);
            ok = results.All(r => !r.Status.StartsWith("error", StringComparison.Ordinal));
        }

        if (settings.Out is { } path)
        {
            var text = new StringBuilder().AppendLine(BenchResult.CsvHeader);
            foreach (var result in results)
            {
                text.AppendLine(result.CsvLine());
            }

            Csv.Write(path, text.ToString());
            Say($"gpu-bench: wrote {path}");
        }

        Say($"gpu-bench: {results.Count(r => r.Status == "ok")} timed, {results.Count(r => r.Status.StartsWith("skipped", StringComparison.Ordinal))} skipped, " +
            $"{results.Count(r => r.Status.StartsWith("error", StringComparison.Ordinal))} failed, {results.Count(r => r.Status.StartsWith("not run", StringComparison.Ordinal))} not run; " +
            $"{Stopwatch.GetElapsedTime(start).TotalSeconds:F1} s");
        return ok ? ExitCodes.Success : ExitCodes.Failure;
    }

    /// <summary>
    /// Every configuration, cheapest first, on every kernel variant in turn (so that a budget cut drops the costliest
    /// shapes of all variants, not a whole variant). A forced variant that cannot run a shape, or that the automatic
    /// choice already picks for it, gets a row saying so rather than a second timing.
    /// </summary>
    private static List<BenchResult> Measure(IReadOnlyList<BenchConfig> configs, BenchTiming timing, IReadOnlyList<string> kernels, long deadline)
    {
        var backends = new List<(string Kernel, CudaBackend Backend, GpuBench Bench)>();
        try
        {
            foreach (string kernel in kernels)
            {
                var backend = KernelVariants.CreateBackend(kernel);
                backends.Add((kernel, backend, new GpuBench(backend, timing, deadline, Say)));
                Say($"gpu-bench: kernel {kernel}: {backend.Description}");
                backends[^1].Bench.WarmUpKernels(configs.Select(c => c.Dtype));
            }

            var results = new List<BenchResult>();
            foreach (var config in configs.OrderBy(c => c.Flops))
            {
                string auto = KernelVariants.AutoChoice(config);
                foreach (var (kernel, _, bench) in backends)
                {
                    results.Add(kernel == KernelVariants.Auto ? bench.MeasureOne(config, kernel) with { Kernel = $"auto ({auto})" }
                        : KernelVariants.Unsupported(kernel, config) is { } why ? new BenchResult(config, $"unsupported: {why}") { Kernel = kernel }
                        : kernel == auto && kernels.Contains(KernelVariants.Auto) ? new BenchResult(config, "same as auto") { Kernel = kernel }
                        : bench.MeasureOne(config, kernel));
                }
            }

            // In the file's order, variants together per configuration.
            var order = configs.Select((c, i) => (c.Key, i)).ToDictionary(x => x.Key, x => x.i);
            return [.. results.OrderBy(r => order[r.Config.Key])];
        }
        finally
        {
            foreach (var (_, backend, _) in backends)
            {
                backend.Dispose();
            }
        }
    }

    /// <summary>
    /// Without a device, the same measuring code runs on a CPU backend with every shape cut to one batch entry and one
    /// head, 3 samples and a 10 s budget: it exercises the ordering, skip rules, allocation, rotation and CSV. Its rows
    /// say "not run: …" and are labelled <c>cpu-stand-in</c>; its times are no GPU result.
    /// </summary>
    private static List<BenchResult> StandIn(IReadOnlyList<BenchConfig> configs, BenchTiming timing, string why)
    {
        Say("gpu-bench: exercising the timing code on a CPU stand-in (B=1, H=1, 3 samples, 10 s; not a GPU result):");
        var small = configs.Select(c => c with { Shape = c.Shape with { Batch = 1, Heads = 1, KvHeads = 1 } }).ToList();
        using var cpu = new CpuBackend();
        var bench = new GpuBench(cpu, timing with { Samples = 3, WarmupMs = 5, SlowMs = 100 },
            Stopwatch.GetTimestamp() + (10 * Stopwatch.Frequency), line => Say($"  {line}"));
        var measured = bench.Run(small).ToDictionary(r => r.Config.Key);
        return [.. configs.Select(c => new BenchResult(c, $"not run: {why} (stand-in: {measured[c.Key].Status})") { Backend = "cpu-stand-in" })];
    }

    private static void Say(string line) => Console.Out.WriteLine(line);
}
