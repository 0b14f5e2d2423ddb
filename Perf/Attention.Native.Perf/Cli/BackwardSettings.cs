using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Attention.Native.Perf.Cli;

/// <summary>Options of the <c>backward</c> command.</summary>
internal sealed class BackwardSettings : CommandSettings
{
    [CommandOption("--shapes <LIST>")]
    [Description("Comma-separated B:H:L:D shapes (Lq = Lk), each measured without and with a top-left causal mask.")]
    [DefaultValue("1:8:2048:64,1:16:1024:128")]
    public string Shapes { get; init; } = "1:8:2048:64,1:16:1024:128";

    [CommandOption("--threads <LIST>")]
    [Description("Comma-separated thread counts; each side runs with as many threads.")]
    [DefaultValue("1,2")]
    public string Threads { get; init; } = "1,2";

    [CommandOption("--runs <N>")]
    [Description("Timed runs per side (interleaved, one of each per round; the median is reported).")]
    [DefaultValue(7)]
    public int Runs { get; init; } = 7;

    [CommandOption("--peers <LIST>")]
    [Description("torch (libtorch's SDPA backward through TorchSharp) or none.")]
    [DefaultValue("torch")]
    public string Peers { get; init; } = "torch";

    [CommandOption("--out <DIR>")]
    [Description("Folder for backward.md and backward.csv (default: artifacts/perf/backward-<timestamp>).")]
    public string? Out { get; init; }

    public override ValidationResult Validate()
    {
        if (Runs < 1)
        {
            return ValidationResult.Error("--runs must be at least 1.");
        }

        if (Peers is not ("torch" or "none"))
        {
            return ValidationResult.Error($"--peers: expected torch or none, got '{Peers}'.");
        }

        if (!Threads.Split(',', StringSplitOptions.TrimEntries).All(t => int.TryParse(t, out int n) && n > 0))
        {
            return ValidationResult.Error($"--threads: expected positive integers, got '{Threads}'.");
        }

        return Shapes.Split(',', StringSplitOptions.TrimEntries).All(s => Backward.BackwardCase.TryParse(s, causal: false) is not null)
            ? ValidationResult.Success()
            : ValidationResult.Error($"--shapes: expected B:H:L:D entries of positive integers, got '{Shapes}'.");
    }
}
