using System.ComponentModel;
using System.Globalization;
using Attention.Native.Cpu;
using Attention.Native.Perf.Gemm;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Attention.Native.Perf.Cli;

/// <summary>Options of the <c>gemm</c> command.</summary>
internal sealed class GemmSettings : CommandSettings
{
    [CommandOption("--threads <LIST>")]
    [Description("Comma-separated thread counts, e.g. 1,2.")]
    [DefaultValue("1,2")]
    public string Threads { get; init; } = "1,2";

    [CommandOption("--variants <LIST>")]
    [Description("Comma-separated CPU kernel variants: best, Vector512, Vector256, Vector128, Scalar. A variant this CPU lacks runs emulated (very slow).")]
    [DefaultValue("best")]
    public string Variants { get; init; } = "best";

    [CommandOption("--shapes <FILTER>")]
    [Description("Comma-separated substrings; keeps the shapes whose name contains one, e.g. 2048^3,Bt.")]
    public string? Shapes { get; init; }

    [CommandOption("--quick")]
    [Description("Fewer warm-ups and a shorter timing budget per row (CI, tests).")]
    public bool Quick { get; init; }

    [CommandOption("--seconds <S>")]
    [Description("Timing budget per row in seconds (runs continue until it is spent, at least 3); default 2, 0.3 with --quick. On a shared machine a longer budget finds more quiet moments.")]
    public double? Seconds { get; init; }

    [CommandOption("--out <DIR>")]
    [Description("Folder for gemm.md and gemm.csv; default artifacts/perf/gemm-<yyyyMMdd-HHmmss>.")]
    public string? Out { get; init; }

    [CommandOption("--seed <N>")]
    [Description("Seed of the random operands; random when omitted (it is printed).")]
    public int? Seed { get; init; }

    public string OutputFolder => Out ?? defaultFolder;

    private readonly string defaultFolder =
        Path.Combine("artifacts", "perf", "gemm-" + DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));

    public IReadOnlyList<int> ThreadCounts => CompareSettings.ParseThreads(Threads) ?? [];

    public IReadOnlyList<CpuKernelVariant> CpuVariants => CompareSettings.ParseList(Variants, CompareSettings.ParseVariant) ?? [];

    public IReadOnlyList<GemmShape> ShapeList => GemmShape.Filter(Shapes);

    /// <summary>The timing budget per row, in seconds.</summary>
    public double Budget => Seconds ?? (Quick ? 0.3 : 2.0);

    public override ValidationResult Validate() =>
        Seconds is <= 0 or > 600
            ? ValidationResult.Error($"--seconds: expected a number of seconds from 0 to 600, got {Seconds}.")
        : CompareSettings.ParseThreads(Threads) is null
            ? ValidationResult.Error($"--threads: expected comma-separated counts from 1 to 1024, got '{Threads}'.")
        : CpuVariants.Count == 0
            ? ValidationResult.Error($"--variants: expected comma-separated names from best, Vector512, Vector256, Vector128, Scalar, got '{Variants}'.")
        : ShapeList.Count == 0
            ? ValidationResult.Error($"--shapes: '{Shapes}' matches no shape. Shapes: {string.Join(", ", GemmShape.All.Select(s => s.Name))}.")
        : ValidationResult.Success();
}
