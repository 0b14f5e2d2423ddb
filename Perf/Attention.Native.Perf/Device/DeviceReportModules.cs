using System.Globalization;
using System.Text;

namespace Attention.Native.Perf.Device;

/// <summary>
/// The report's kernel-module section: where libcuda and cuBLAS were loaded from, each module's JIT outcome and time,
/// every entry point that failed, each entry's registers, local (spill) bytes and static shared memory as the installed
/// driver compiled it (modules.csv of <c>gpu-modules</c>), and the driver's JIT info log (modules.log).
/// </summary>
internal static class DeviceReportModules
{
    public static void Render(StringBuilder text, string csvPath, string? logPath)
    {
        var culture = CultureInfo.InvariantCulture;
        text.AppendLine("## Kernel modules (as the installed driver JIT-compiled them)").AppendLine();
        if (!File.Exists(csvPath))
        {
            text.AppendLine("modules.csv (gpu-modules) was not produced.").AppendLine();
            return;
        }

        var rows = Csv.Read(csvPath);
        foreach (var library in rows.Where(r => Csv.Text(r, "module") is "library" or "device"))
        {
            text.AppendLine(culture, $"- {Csv.Text(library, "entry")}: {Csv.Text(library, "status")}: {DeviceReport.Cell(Csv.Text(library, "message"))}");
        }

        var modules = rows.Where(r => Csv.Text(r, "module").EndsWith(".ptx", StringComparison.Ordinal) && Csv.Text(r, "entry").Length == 0).ToList();
        var entries = rows.Where(r => Csv.Text(r, "module").EndsWith(".ptx", StringComparison.Ordinal) && Csv.Text(r, "entry").Length > 0).ToList();
        text.AppendLine();
        text.AppendLine("| module | JIT | ms | entries ok | entries failed |").AppendLine("|---|---|---:|---:|---:|");
        foreach (var m in modules)
        {
            string name = Csv.Text(m, "module");
            var own = entries.Where(e => Csv.Text(e, "module") == name).ToList();
            text.AppendLine(culture,
                $"| {name} | {Csv.Text(m, "status")} | {Csv.Text(m, "load_ms")} | {own.Count(e => Csv.Text(e, "status") == "ok")} | {own.Count(e => Csv.Text(e, "status") != "ok")} |");
        }

        text.AppendLine();
        var failed = rows.Where(r => Csv.Text(r, "status") != "ok").ToList();
        if (failed.Count > 0)
        {
            text.AppendLine(culture, $"Failed ({failed.Count}):").AppendLine();
            foreach (var r in failed)
            {
                string what = Csv.Text(r, "entry") is { Length: > 0 } entry ? $"{Csv.Text(r, "module")} {entry}" : Csv.Text(r, "module");
                text.AppendLine(culture, $"- {what}: {DeviceReport.Cell(DeviceReport.FirstLine(Csv.Text(r, "message")))}");
            }

            text.AppendLine();
        }

        if (entries.Any(e => Csv.Text(e, "status") == "ok"))
        {
            text.AppendLine("| entry | registers | local (spill) bytes | static shared bytes | max threads |").AppendLine("|---|---:|---:|---:|---:|");
            foreach (var e in entries.Where(e => Csv.Text(e, "status") == "ok"))
            {
                text.AppendLine(culture,
                    $"| {Csv.Text(e, "entry")} | {Csv.Text(e, "registers")} | {Csv.Text(e, "local_bytes")} | {Csv.Text(e, "static_shared_bytes")} | {Csv.Text(e, "max_threads")} |");
            }

            text.AppendLine();
        }

        if (logPath is not null)
        {
            text.AppendLine("<details><summary>gpu-modules output (the driver's JIT info logs)</summary>").AppendLine();
            text.AppendLine("```text").AppendLine(File.ReadAllText(logPath).TrimEnd()).AppendLine("```").AppendLine();
            text.AppendLine("</details>").AppendLine();
        }
    }
}
