using System.ComponentModel;
using Attention.Native.Cuda;
using Attention.Native.Perf.Device;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Attention.Native.Perf.Cli;

/// <summary>Options of the <c>gpu-modules</c> command.</summary>
internal sealed class GpuModulesSettings : CommandSettings
{
    [CommandOption("--out <FILE>")]
    [Description("Append one CSV row per library, module and entry point here (created with its header).")]
    public string? Out { get; init; }

    public override ValidationResult Validate() => ValidationResult.Success();
}

/// <summary>
/// <c>gpu-modules</c>: loads every kernel module of the CUDA backend (<see cref="KernelModules"/>) and prints the
/// driver's JIT info logs and each entry's registers. Exit code 1 when CUDA is unavailable or anything failed to load.
/// </summary>
internal sealed class GpuModulesCommand : Command<GpuModulesSettings>
{
    public override int Execute(CommandContext context, GpuModulesSettings settings, CancellationToken cancellationToken)
    {
        using var csv = settings.Out is { } path ? new CsvAppender(path, KernelModules.CsvHeader) : null;
        Action<string> row = line => csv?.Append(line);
        if (!CudaBackend.IsAvailable(out string reason))
        {
            Console.Out.WriteLine($"gpu-modules: CUDA: not run ({reason})");
            row(Csv.Line("device", string.Empty, "error", null, null, null, null, null, reason));
            return ExitCodes.Failure;
        }

        Console.Out.WriteLine($"gpu-modules: {reason}");
        int failures;
        try
        {
            using var backend = new CudaBackend();
            failures = KernelModules.Inspect(backend, row, line => Console.Out.WriteLine(line));
        }
        catch (Exception e)
        {
            Console.Out.WriteLine($"gpu-modules: FAILED: {e.GetType().Name}: {e.Message}");
            row(Csv.Line("device", string.Empty, "error", null, null, null, null, null, $"{e.GetType().Name}: {e.Message}"));
            return ExitCodes.Failure;
        }

        Console.Out.WriteLine($"gpu-modules: {failures} failure(s){(csv is null ? string.Empty : $"; rows in {csv.Path}")}");
        return failures == 0 ? ExitCodes.Success : ExitCodes.Failure;
    }
}
