using Spectre.Console;
using Spectre.Console.Cli;

namespace Attention.Native.Perf.Cli;

/// <summary>The process's exit codes.</summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>A result exceeded its error tolerance, or the run failed.</summary>
    public const int Failure = 1;

    public const int BadArguments = 2;

    /// <summary>Spectre's exception handler: argument and validation errors are 2, anything else is a failure.</summary>
    public static int FromException(Exception exception)
    {
        if (exception is CommandAppException)
        {
            AnsiConsole.MarkupLine($"[red]Error:[/] {Markup.Escape(exception.Message)}");
            AnsiConsole.WriteLine("Run with --help for the usage.");
            return BadArguments;
        }

        AnsiConsole.WriteException(exception);
        return Failure;
    }
}
