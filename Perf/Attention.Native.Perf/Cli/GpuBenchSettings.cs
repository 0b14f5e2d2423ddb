using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Attention.Native.Perf.Cli;

/// <summary>Options of the <c>gpu-bench</c> command.</summary>
internal sealed class GpuBenchSettings : CommandSettings
{
    [CommandOption("--shapes <FILE>")]
    [Description("The shapes and timing rules shared with Perf/device/torch_sdpa.py.")]
    [DefaultValue("Perf/device/shapes.json")]
    public string Shapes { get; init; } = "Perf/device/shapes.json";

    [CommandOption("--out <FILE>")]
    [Description("Append one CSV row per configuration and kernel variant here as each is measured (created with its header).")]
    public string? Out { get; init; }

    [CommandOption("--budget-seconds <S>")]
    [Description("Skip configurations that would not finish within this many seconds of the start (0 = no limit).")]
    [DefaultValue(90.0)]
    public double BudgetSeconds { get; init; } = 90;

    [CommandOption("--kernels <LIST>")]
    [Description("CUDA kernel variants to time on every shape: auto (the backend's choice), hopper, simt, splitkv, mma (forced through ATTENTION_NATIVE_CUDA_KERNEL). A forced variant that cannot run a shape, or whose shape auto already timed with it (in this run or in --out's earlier rows), gets a row saying so instead of a timing.")]
    [DefaultValue("auto,hopper,simt,splitkv,mma")]
    public string Kernels { get; init; } = "auto,hopper,simt,splitkv,mma";

    [CommandOption("--dry-run")]
    [Description("No GPU: read the shapes, report CUDA as not run and write the CSV rows as 'not run'; exit 0.")]
    public bool DryRun { get; init; }

    public override ValidationResult Validate() =>
        BudgetSeconds < 0 ? ValidationResult.Error("--budget-seconds must be 0 or more.")
        : !File.Exists(Shapes) ? ValidationResult.Error($"--shapes: {Shapes} not found.")
        : ValidationResult.Success();
}
