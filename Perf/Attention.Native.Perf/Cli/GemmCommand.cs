using Attention.Native.Perf.Gemm;
using Attention.Native.Perf.Limits;
using Attention.Native.Perf.Report;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Attention.Native.Perf.Cli;

/// <summary>
/// <c>gemm</c>: times the library's CPU SGEMM on the cube and attention-layer shapes, as a fraction of the FMA peak
/// measured in the same run at the same thread count, and checks each product against float64. Writes gemm.md and
/// gemm.csv. Exit code 1 when an error exceeds 1e-5.
/// </summary>
internal sealed class GemmCommand : Command<GemmSettings>
{
    public override int Execute(CommandContext context, GemmSettings settings, CancellationToken cancellationToken)
    {
        int seed = settings.Seed ?? Random.Shared.Next();
        var notes = Header(settings, seed);
        notes.ForEach(AnsiConsole.WriteLine);
        var rows = GemmRunner.Run(settings.ShapeList, settings.ThreadCounts, settings.CpuVariants, settings.Quick, settings.Budget, seed,
            step => AnsiConsole.WriteLine($"  timing {step}"));
        notes.Add(LoadAverage.Describe("after"));
        AnsiConsole.WriteLine(notes[^1]);
        GemmReport.WriteConsole(rows);

        string folder = settings.OutputFolder;
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "gemm.md"), GemmReport.Markdown(rows, notes));
        File.WriteAllText(Path.Combine(folder, "gemm.csv"), GemmReport.Csv(rows));
        AnsiConsole.WriteLine($"Wrote gemm.md, gemm.csv to {Path.GetFullPath(folder)}.");

        int failures = rows.Count(r => !r.Passes);
        if (failures > 0)
        {
            AnsiConsole.MarkupLine($"[red]{failures} result(s) exceed the relative error tolerance of {GemmRow.Tolerance:0.0E+0}.[/]");
            return ExitCodes.Failure;
        }

        return ExitCodes.Success;
    }

    /// <summary>The lines above the table: machine, load, operands, how the peak and the error are measured.</summary>
    private static List<string> Header(GemmSettings settings, int seed)
    {
        List<string> lines =
        [
            MachineDescription.Text,
            LoadAverage.Describe("before"),
            $"Operands: random fp32 in ±[0.05, 1], seed {seed} (--seed {seed} reproduces them); {(settings.Quick ? "quick" : "full")} repetitions, timed runs for {settings.Budget} s per row; ms is the best run.",
            $"FMA peak: {FmaPeak.Accumulators} independent {FmaPeak.VectorName} FMA chains per thread, the best of several runs before and after the shapes.",
            $"rel. error: ‖C − R‖/‖R‖ against a float64 product R, over {GemmRunner.SampleRows} rows of C spread evenly (all rows when fewer).",
        ];
        if (BuildCheck.Warning() is { } warning)
        {
            lines.Add(warning);
        }

        return lines;
    }
}
