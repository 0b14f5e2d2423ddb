using Spectre.Console;

namespace Attention.Native.Perf.Charts;

/// <summary>The end of a command that writes tables and charts into a folder.</summary>
internal static class ChartOutput
{
    /// <summary>
    /// Runs <paramref name="writeCharts"/> (which returns the paths it wrote) and prints the output folder and every file
    /// written. The charts are a convenience: where the Skia natives cannot load, a line says why and the tables stand.
    /// </summary>
    public static void WriteAndList(string folder, IReadOnlyList<string> tables, Func<IReadOnlyList<string>> writeCharts)
    {
        var written = new List<string>(tables);
        try
        {
            written.AddRange(writeCharts().Select(Path.GetFileName)!);
            AnsiConsole.WriteLine(ChartFonts.Describe());
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or IOException)
        {
            AnsiConsole.WriteLine($"Charts not written: {e.GetBaseException().Message}");
        }

        AnsiConsole.WriteLine($"Output folder: {Path.GetFullPath(folder)}");
        AnsiConsole.WriteLine($"Wrote {string.Join(", ", written)}.");
    }
}
