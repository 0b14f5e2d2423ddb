namespace Attention.Native.Perf.Report;

/// <summary>
/// The system's load average (Linux <c>/proc/loadavg</c>): other processes on these cores skew every number, so the
/// reports say how busy the machine was.
/// </summary>
internal static class LoadAverage
{
    private const string LoadAvgFile = "/proc/loadavg";

    /// <summary>The 1-minute load average, or null where the system does not report one.</summary>
    public static double? OneMinute()
    {
        if (!File.Exists(LoadAvgFile))
        {
            return null;
        }

        string first = File.ReadAllText(LoadAvgFile).Split(' ', 2)[0];
        return double.TryParse(first, System.Globalization.CultureInfo.InvariantCulture, out double load) ? load : null;
    }

    /// <summary>A line for the report, with a warning when other work was probably competing for the cores.</summary>
    public static string Describe(string when)
    {
        if (OneMinute() is not { } load)
        {
            return $"Load average {when}: not available.";
        }

        // This process is idle while the line is printed, so load from the measurement itself is mostly older samples.
        string warning = load > 0.5 * Environment.ProcessorCount
            ? " (other processes may be competing for the cores: expect noisy numbers)"
            : string.Empty;
        return $"Load average {when}: {RowCells.Number(load, "F2")} on {Environment.ProcessorCount} cores{warning}.";
    }
}
