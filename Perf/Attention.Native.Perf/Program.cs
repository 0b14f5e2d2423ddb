using Attention.Native.Perf.Bench;
using Attention.Native.Perf.Cli;
using Spectre.Console;
using Spectre.Console.Cli;

// `bench` hands its arguments to BenchmarkDotNet untouched, so it is dispatched before Spectre parses anything.
if (args.Length > 0 && args[0].Equals("bench", StringComparison.OrdinalIgnoreCase))
{
    return BenchEntry.Run(args[1..]);
}

// Redirected output (CI logs, files) has no width; Spectre then assumes 80 columns and wraps the wide table.
if (Console.IsOutputRedirected)
{
    AnsiConsole.Profile.Width = 240;
}

var app = new CommandApp<CompareCommand>();
app.Configure(config =>
{
    config.SetApplicationName("Attention.Native.Perf");
    config.UseStrictParsing();
    config.AddCommand<CompareCommand>("compare")
        .WithDescription("Time every shape on every backend present and check it against the float64 reference (the default).")
        .WithExample("compare", "--quick")
        .WithExample("compare", "--threads", "2", "--shapes", "decode", "--out", "perf-results");
    config.AddExample("bench");
    config.AddExample("bench", "decode", "--join");
    config.SetExceptionHandler((exception, _) => ExitCodes.FromException(exception));
});
return app.Run(args);
