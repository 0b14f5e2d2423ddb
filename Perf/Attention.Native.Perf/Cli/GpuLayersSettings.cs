using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Attention.Native.Perf.Cli;

/// <summary>Options of the <c>gpu-layers</c> command.</summary>
internal sealed class GpuLayersSettings : CommandSettings
{
    [CommandOption("--repeats <N>")]
    [Description("Timed runs per measurement (the median is reported).")]
    [DefaultValue(10)]
    public int Repeats { get; init; } = 10;

    [CommandOption("--dry-run")]
    [Description("No GPU: run the checks with a CPU stand-in for CUDA (exercising the code), report CUDA as not run; exit 0.")]
    public bool DryRun { get; init; }

    public override ValidationResult Validate() =>
        Repeats < 1 ? ValidationResult.Error("--repeats must be at least 1.") : ValidationResult.Success();
}
