using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Attention.Native.Perf.Cli;

/// <summary>Options of the <c>sweep</c> command.</summary>
internal sealed class SweepSettings : CommandSettings
{
    [CommandOption("--cases <N>")]
    [Description("Random cases to draw (at least 500 cover every option many times).")]
    [DefaultValue(600)]
    public int Cases { get; init; } = 600;

    [CommandOption("--seed <N>")]
    [Description("Seed of the cases and their operands; random when omitted (it is printed).")]
    public int? Seed { get; init; }

    [CommandOption("--out <FILE>")]
    [Description("Append one CSV row per case here as each finishes, then the summary as # lines (created with its header).")]
    public string? Out { get; init; }

    [CommandOption("--dry-run")]
    [Description("No GPU: draw every case, run a spread of --dry-run-cases of them on the CPU and the float64 reference only.")]
    public bool DryRun { get; init; }

    [CommandOption("--dry-run-cases <N>")]
    [Description("Cases run by --dry-run.")]
    [DefaultValue(24)]
    public int DryRunCases { get; init; } = 24;

    [CommandOption("--workers <N>")]
    [Description("Cases run at once, each on a one-thread CPU backend; 0 = one per logical core.")]
    [DefaultValue(0)]
    public int Workers { get; init; }

    [CommandOption("--kernels <LIST>")]
    [Description("CUDA kernel variants, one pass each over the cases it can run: auto (the backend's choice), simt, splitkv, mma (forced through ATTENTION_NATIVE_CUDA_KERNEL).")]
    [DefaultValue("auto")]
    public string Kernels { get; init; } = "auto";

    [CommandOption("--budget-seconds <S>")]
    [Description("Stop starting cases after this long (0 = no limit); the summary says how many ran.")]
    [DefaultValue(0.0)]
    public double BudgetSeconds { get; init; }

    public override ValidationResult Validate() =>
        Cases < 1 ? ValidationResult.Error("--cases must be at least 1.")
        : DryRunCases < 1 ? ValidationResult.Error("--dry-run-cases must be at least 1.")
        : Workers < 0 ? ValidationResult.Error("--workers must be 0 or more.")
        : BudgetSeconds < 0 ? ValidationResult.Error("--budget-seconds must be 0 or more.")
        : KernelsError() is { } error ? ValidationResult.Error($"--kernels: {error}")
        : ValidationResult.Success();

    private string? KernelsError()
    {
        try
        {
            _ = Device.KernelVariants.Parse(Kernels);
            return null;
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
    }
}
