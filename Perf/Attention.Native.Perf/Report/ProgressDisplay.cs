using Spectre.Console;

namespace Attention.Native.Perf.Report;

/// <summary>
/// Shows progress through a known number of steps: a Spectre progress bar on an interactive terminal, one plain line
/// per step when the output is redirected (CI logs, files), which Spectre reports through its profile.
/// </summary>
internal static class ProgressDisplay
{
    /// <summary>Runs <paramref name="work"/>, which calls the step callback before each of its steps.</summary>
    public static T Run<T>(string title, int steps, Func<Action<string>, T> work)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            int step = 0;
            return work(what => AnsiConsole.WriteLine($"[{++step}/{steps}] {what}"));
        }

        return AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var task = context.AddTask(Markup.Escape(title), maxValue: steps);
                bool started = false;
                var result = work(what =>
                {
                    if (started)
                    {
                        task.Increment(1);
                    }

                    started = true;
                    task.Description = Markup.Escape($"{title}: {what}");
                });
                task.Value = steps;
                return result;
            });
    }
}
