using System.ComponentModel;
using Attention.Native.Perf.Device;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Attention.Native.Perf.Cli;

/// <summary>Options of the <c>device-report</c> command.</summary>
internal sealed class DeviceReportSettings : CommandSettings
{
    [CommandOption("--dir <DIR>")]
    [Description("The folder holding tests.xml, modules.csv, sweep.csv, bench.csv and torch.csv ($OUT of Perf/device/run.sh).")]
    public string Dir { get; init; } = ".";

    [CommandOption("--logs <DIR>")]
    [Description("run.sh's own records: steps.tsv (name, result, seconds, note), machine.txt, modules.log.")]
    public string? Logs { get; init; }

    [CommandOption("--shapes <FILE>")]
    [Description("The shapes file gpu-bench ran: the benchmark tables follow its order.")]
    public string? Shapes { get; init; }

    [CommandOption("--kernel-report <FILE>")]
    [Description("The kernels' static metrics (kernel-report.csv of Native/check.sh kernel-report; the pack carries it), joined with the benchmark rows.")]
    public string? KernelReport { get; init; }

    [CommandOption("--mode <TEXT>")]
    [Description("What kind of run this was, e.g. \"GPU run\" or \"dry run (no GPU)\".")]
    public string Mode { get; init; } = "GPU run";

    [CommandOption("--out <FILE>")]
    [Description("Where to write the Markdown report.")]
    public string Out { get; init; } = "report.md";

    public override ValidationResult Validate() =>
        Directory.Exists(Dir) ? ValidationResult.Success() : ValidationResult.Error($"--dir: {Dir} is not a folder.");
}

/// <summary><c>device-report</c>: renders Perf/device/run.sh's report.md from the files its steps wrote.</summary>
internal sealed class DeviceReportCommand : Command<DeviceReportSettings>
{
    public override int Execute(CommandContext context, DeviceReportSettings settings, CancellationToken cancellationToken)
    {
        File.WriteAllText(settings.Out, DeviceReport.Render(settings.Dir, settings.Logs, settings.Shapes, settings.Mode, settings.KernelReport));
        Console.Out.WriteLine($"device-report: wrote {settings.Out}");
        return ExitCodes.Success;
    }
}
