using System.Diagnostics;
using System.Reflection;
using System.Text;
using Xunit.Sdk;
using Xunit.v3;

// One check at a time: each runs builds, publishes or whole programs that want every core of the machine.
[assembly: Parallelization(Mode = ParallelMode.None)]

namespace Attention.Native.IntegrationTests;

/// <summary>
/// Runs one check, a script or a built program, from the repository root with CONFIGURATION set to this build's
/// configuration. Its output goes to the test's output and to artifacts/integration/&lt;name&gt;.log. Exit status 0
/// passes, 77 skips the test with the reason from the check's last "skipped: ..." line, anything else (or running past
/// the time limit, which kills the whole process tree) fails it with the output's tail.
/// </summary>
internal static class ProgramCheck
{
    private const int SkipExitCode = 77;
    private const int TailLines = 40;

    public static string RepositoryRoot => Metadata("RepositoryRoot");

    /// <summary>The configuration these tests were built in; the programs they run were built in it too.</summary>
    public static string Configuration => Metadata("Configuration");

    /// <summary>The framework-dependent build of a project of the solution: <c>bin/&lt;configuration&gt;/net10.0/&lt;name&gt;.dll</c>.</summary>
    public static string BuiltDll(string projectDirectory, string name) =>
        Path.Combine(RepositoryRoot, projectDirectory, "bin", Configuration, "net10.0", name + ".dll");

    public static async Task Run(string name, TimeSpan limit, string fileName, params string[] arguments)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["CONFIGURATION"] = Configuration;
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";

        var output = new StringBuilder();
        string logDirectory = Path.Combine(RepositoryRoot, "artifacts", "integration");
        Directory.CreateDirectory(logDirectory);
        string logPath = Path.Combine(logDirectory, name + ".log");
        using var process = new Process { StartInfo = start };
        void Append(object sender, DataReceivedEventArgs e)
        {
            if (e.Data is null)
            {
                return;
            }

            lock (output)
            {
                output.AppendLine(e.Data);
            }

            TestContext.Current.TestOutputHelper?.WriteLine(e.Data);
        }

        process.OutputDataReceived += Append;
        process.ErrorDataReceived += Append;
        var clock = Stopwatch.StartNew();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(limit);
        bool timedOut = false;
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            timedOut = true;
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }

        // The asynchronous readers may still hold the last lines after the exit: WaitForExit() drains them.
        process.WaitForExit();
        string text;
        lock (output)
        {
            text = output.ToString();
        }

        await File.WriteAllTextAsync(logPath, text, CancellationToken.None);
        string command = $"{fileName} {string.Join(' ', arguments)}";
        string[] lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string tail = string.Join('\n', lines.TakeLast(TailLines));
        Assert.False(timedOut, $"{command} ran past its {limit.TotalSeconds:F0} s limit and was killed (log: {logPath}):\n{tail}");
        if (process.ExitCode == SkipExitCode)
        {
            string reason = lines.LastOrDefault(l => l.StartsWith("skipped: ", StringComparison.Ordinal))?["skipped: ".Length..].Trim()
                ?? $"{command} exited {SkipExitCode} without a reason";
            Assert.Skip(reason);
        }

        Assert.True(process.ExitCode == 0,
            $"{command} exited {process.ExitCode} after {clock.Elapsed.TotalSeconds:F0} s (log: {logPath}):\n{tail}");
    }

    private static string Metadata(string key) =>
        typeof(ProgramCheck).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"the assembly metadata {key} is empty");
}
