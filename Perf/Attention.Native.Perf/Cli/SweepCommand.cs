using System.Diagnostics;
using System.Globalization;
using Attention.Native.Cpu;
using Attention.Native.Cuda;
using Attention.Native.Perf.Device;
using Attention.Native.Perf.Report;
using Spectre.Console.Cli;

namespace Attention.Native.Perf.Cli;

/// <summary>
/// <c>sweep</c>: the correctness sweep of the CUDA backend against the CPU backend and the float64 reference over
/// random cases covering every option (Perf/device/README.md). Each case's row is appended to <c>--out</c> as it finishes
/// (a process killed at its time limit keeps them), the summary as <c>#</c> lines at the end. Exit code 1 on any
/// failure, on a coverage gap, or when CUDA is unavailable outside <c>--dry-run</c>.
/// </summary>
internal sealed class SweepCommand : Command<SweepSettings>
{
    public const string CsvHeader =
        "index,seed,dtype,batch,hq,hkv,lq,lk,d,dv,layout,api,tolerance,cpu_rel_err,cuda_rel_err,cuda_cpu_rel_diff," +
        "cuda_cpu_max_abs,cpu_nans,cuda_nans,masked_rows,ms,status,features,message,kernel";

    private const int MaxFailuresPrinted = 40;

    public override int Execute(CommandContext context, SweepSettings settings, CancellationToken cancellationToken)
    {
        // The budget counts from here: drawing the cases and creating the backends are part of it.
        long start = Stopwatch.GetTimestamp();
        int seed = settings.Seed ?? Random.Shared.Next();
        int workers = settings.Workers > 0 ? settings.Workers : Environment.ProcessorCount;
        Say(MachineDescription.Text);
        var cases = SweepCatalog.Generate(settings.Cases, seed);
        Say($"sweep: {cases.Count} cases drawn with seed {seed} (--seed {seed} reproduces them).");
        var missing = SweepCatalog.MissingFeatures(cases);
        Say("sweep: coverage (cases per feature): " +
            string.Join(", ", SweepCatalog.Coverage(cases).Select(c => $"{c.Feature} {c.Cases}")));
        if (missing.Count > 0)
        {
            Say($"sweep: FAIL coverage: no case has {string.Join(", ", missing)} (draw more cases).");
        }

        bool available = CudaBackend.IsAvailable(out string reason);
        var kernels = KernelVariants.Parse(settings.Kernels);
        string cudaLine = settings.DryRun
            ? (available ? $"CUDA: not run (dry run; {reason})" : $"CUDA: not run (no device: {reason})") +
              "; a one-thread scalar CPU backend stood in for it, so the cuda columns hold CPU numbers"
            : available ? $"CUDA: {reason}; kernel variants {string.Join(", ", kernels)}"
            : $"CUDA: FAIL unavailable ({reason}); only the CPU side ran";
        Say($"sweep: {cudaLine}");
        IReadOnlyList<SweepCase> drawn = settings.DryRun ? Spread(cases, settings.DryRunCases) : cases;
        using var csv = settings.Out is { } path ? new CsvAppender(path, CsvHeader) : null;
        var ran = new List<SweepResult>();
        int selectedTotal = 0;
        for (int pass = 0; pass < kernels.Count; pass++)
        {
            // Each variant runs the cases it supports, within its share of what is left of the budget.
            string kernel = kernels[pass];
            var selected = drawn.Where(c => KernelVariants.Unsupported(kernel, c) is null).ToList();
            selectedTotal += selected.Count;
            double left = settings.BudgetSeconds - Stopwatch.GetElapsedTime(start).TotalSeconds;
            long deadline = settings.BudgetSeconds > 0
                ? Stopwatch.GetTimestamp() + (long)(Math.Max(left, 1) / (kernels.Count - pass) * Stopwatch.Frequency)
                : long.MaxValue;
            Say($"sweep: kernel {kernel}: {selected.Count} of {drawn.Count} cases it can run");
            ran.AddRange(RunPass(kernel, selected, settings, available, workers, deadline, csv));
        }

        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var summary = Summary(ran, cases.Count, selectedTotal, seconds, workers, seed, settings.DryRun, cudaLine).ToList();
        if (missing.Count > 0)
        {
            summary.Add($"sweep: coverage gap: no case has {string.Join(", ", missing)}");
        }

        foreach (string line in summary)
        {
            csv?.Append($"# {line}");
            Say(line);
        }

        if (csv is not null)
        {
            Say($"sweep: appended {ran.Count} rows to {csv.Path}");
        }

        // The last line says why the sweep failed: run.sh records it as its step's note.
        var reasons = new List<string>();
        if (ran.Count(r => !r.Passed) is > 0 and int failedCases)
        {
            reasons.Add($"{failedCases} failed case(s)");
        }

        if (ran.Count < selectedTotal)
        {
            reasons.Add($"{selectedTotal - ran.Count} case(s) not started within the time budget");
        }

        if (missing.Count > 0)
        {
            reasons.Add($"coverage gap: {string.Join(", ", missing)}");
        }

        if (!settings.DryRun && !available)
        {
            reasons.Add("CUDA unavailable");
        }

        Say(reasons.Count == 0 ? $"sweep: PASS ({ran.Count} cases)" : $"sweep: FAIL: {string.Join("; ", reasons)}");
        return reasons.Count == 0 ? ExitCodes.Success : ExitCodes.Failure;
    }

    /// <summary>One kernel variant's pass: its backend (the CPU stand-in in a dry run), the cases, progress lines, each
    /// case's row appended to <paramref name="csv"/>. A backend that cannot be created fails every case of the pass,
    /// with the reason.</summary>
    private static List<SweepResult> RunPass(
        string kernel, List<SweepCase> selected, SweepSettings settings, bool available, int workers, long deadline, CsvAppender? csv)
    {
        AttentionBackend? created;
        try
        {
            created = settings.DryRun
                ? new CpuBackend(new CpuBackendOptions { ThreadCount = 1, Variant = CpuKernelVariant.Scalar })
                : available ? KernelVariants.CreateBackend(kernel) : null;
        }
        catch (Exception e)
        {
            Say($"sweep: FAIL kernel {kernel}: its backend could not be created: {e.GetType().Name}: {e.Message}");
            var unrun = selected.Select(c => new SweepResult(c) { Kernel = kernel }).ToList();
            foreach (var result in unrun)
            {
                result.Fail($"backend: {e.GetType().Name}: {e.Message}");
                csv?.Append(Row(result));
            }

            return unrun;
        }

        using var cuda = created;
        long start = Stopwatch.GetTimestamp();
        int finished = 0;
        int failed = 0;
        int every = Math.Max(1, selected.Count / 10);
        var results = SweepRunner.Run(selected, cuda, workers, deadline, result =>
        {
            result.Kernel = kernel;
            csv?.Append(Row(result));
            int n = Interlocked.Increment(ref finished);
            if (!result.Passed && Interlocked.Increment(ref failed) <= MaxFailuresPrinted)
            {
                // The first ones in full (the CSV has them all): a broken device context would fail every case.
                Say($"sweep: FAIL {kernel} case {result.Case.Index} ({Describe(result.Case)}): {string.Join(" | ", result.Failures)}");
            }

            if (n % every == 0 || n == selected.Count)
            {
                Say($"sweep: {kernel}: {n}/{selected.Count} cases, {Volatile.Read(ref failed)} failed, {Stopwatch.GetElapsedTime(start).TotalSeconds:F1} s");
            }
        });
        return [.. results.Where(r => r is not null).Select(r => r!)];
    }

    /// <summary>The closing lines: cases, then per kernel variant and element type the worst errors, NaNs and failures.</summary>
    public static IEnumerable<string> Summary(
        IReadOnlyList<SweepResult> ran, int drawn, int selected, double seconds, int workers, int seed, bool dryRun, string cudaLine)
    {
        yield return $"sweep: {ran.Count} of {drawn} drawn cases run{(dryRun ? " (dry run: a spread of them, CPU and float64 only)" : string.Empty)}" +
            $"{(ran.Count < selected ? $", {selected - ran.Count} not started within the time budget" : string.Empty)}, " +
            $"{seconds:F1} s on {workers} workers, seed {seed}; {cudaLine}";
        foreach (var group in ran.GroupBy(r => (r.Kernel, r.Case.TypeName)))
        {
            var g = group.ToList();
            yield return string.Create(CultureInfo.InvariantCulture,
                $"sweep: {group.Key.Kernel,-7} {group.Key.TypeName,-5} {g.Count,4} cases; max rel err vs float64: cuda {Max(g, r => r.CudaError)}, cpu {Max(g, r => r.CpuError)} " +
                $"(bound {g.Min(r => r.Case.Tolerance):0.0E+0}, huge scores 1.0E-2); max |cuda-cpu|/|ref| {Max(g, r => r.CudaCpuDifference)}; " +
                $"NaN cuda {g.Sum(r => Math.Max(0, r.CudaNaNs))} cpu {g.Sum(r => r.CpuNaNs)}; fully masked rows {g.Sum(r => r.MaskedRows)}; " +
                $"failures {g.Count(r => !r.Passed)}");
        }

        yield return $"sweep: {ran.Count(r => !r.Passed)} failed case(s)";
    }

    private static string Max(List<SweepResult> results, Func<SweepResult, double> value)
    {
        var values = results.Select(value).ToList();
        if (values.All(double.IsNaN))
        {
            return "-";
        }

        return values.Where(v => !double.IsNaN(v)).DefaultIfEmpty(0).Max().ToString("0.00E+0", CultureInfo.InvariantCulture);
    }

    /// <summary><paramref name="count"/> cases spread evenly over the list (the dry run's sample).</summary>
    private static List<SweepCase> Spread(IReadOnlyList<SweepCase> cases, int count)
    {
        if (count >= cases.Count)
        {
            return [.. cases];
        }

        return [.. Enumerable.Range(0, count).Select(i => cases[(int)((long)i * cases.Count / count)])];
    }

    private static string Describe(SweepCase c) =>
        $"{c.TypeName} {c.Shape} {string.Join(' ', c.Features.Skip(1))}";

    /// <summary>One case's CSV row.</summary>
    private static string Row(SweepResult r)
    {
        var c = r.Case;
        var s = c.Shape;
        return Csv.Line(
            c.Index, c.Seed, c.TypeName, s.Batch, s.QueryHeads, s.KeyValueHeads, s.QueryLength, s.KeyLength, s.HeadDim,
            s.ValueHeadDim, c.LayoutName, c.ViaTensors ? "tensors" : "spans", c.Tolerance, r.CpuError, r.CudaError,
            r.CudaCpuDifference, r.CudaCpuMaxAbs, r.CpuNaNs, r.CudaNaNs >= 0 ? r.CudaNaNs : null, r.MaskedRows,
            Math.Round(r.Milliseconds, 1), r.Status, string.Join(' ', c.Features), string.Join(" | ", r.Failures), r.Kernel);
    }

    private static void Say(string line) => Console.Out.WriteLine(line);
}
