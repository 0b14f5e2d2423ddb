using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Attention.Native.Perf.Cli;

/// <summary>Options of the <c>layer</c> command.</summary>
internal sealed class LayerSettings : CommandSettings
{
    [CommandOption("--shapes <LIST>")]
    [Description("Comma-separated layer shapes: seed (B=32, L=64, E=512, H=8), long (B=1, L=2048, E=1024, H=16), or all.")]
    [DefaultValue("all")]
    public string Shapes { get; init; } = "all";

    [CommandOption("--threads <N>")]
    [Description("CPU threads (0 = all cores).")]
    [DefaultValue(0)]
    public int Threads { get; init; }

    [CommandOption("--types <LIST>")]
    [Description("Comma-separated element types of the layer: float, half, bfloat16 (Half/BFloat16 layers widen each GEMM's operands to float).")]
    [DefaultValue("float")]
    public string Types { get; init; } = "float";

    [CommandOption("--repeats <N>")]
    [Description("Timed runs per measurement (the median is reported).")]
    [DefaultValue(5)]
    public int Repeats { get; init; } = 5;

    public override ValidationResult Validate() =>
        Threads < 0 ? ValidationResult.Error("--threads must be 0 or more.")
        : Repeats < 1 ? ValidationResult.Error("--repeats must be at least 1.")
        : !Types.Split(',', StringSplitOptions.TrimEntries).All(t => t is "float" or "half" or "bfloat16")
            ? ValidationResult.Error($"--types: expected float, half or bfloat16, got '{Types}'.")
        : Shapes.Split(',', StringSplitOptions.TrimEntries).All(n => n == "all" || Layers.LayerWorkload.All.Any(w => w.Name == n))
            ? ValidationResult.Success()
            : ValidationResult.Error($"--shapes: expected seed, long or all, got '{Shapes}'.");
}
