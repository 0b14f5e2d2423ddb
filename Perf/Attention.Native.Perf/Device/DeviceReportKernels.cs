using System.Globalization;
using System.Text;

namespace Attention.Native.Perf.Device;

/// <summary>
/// The report's join of each gpu-bench row with the kernel entry it launched (bench.csv's <c>entry</c>): that entry's
/// static metrics from the pack's kernel-report.csv (<c>Native/check.sh kernel-report</c> of the embedded PTX: ptxas
/// registers, CTAs per SM on an H100/H200, LDSM per HMMA, barriers per main-loop iteration) beside the measured
/// TFLOP/s, and the registers the installed driver's JIT gave the entry (modules.csv), so that a register count that
/// differs on the real driver shows next to the speed it explains.
/// </summary>
internal static class DeviceReportKernels
{
    /// <summary>The arch whose static metrics are shown: the H100/H200's, for which the CTAs per SM are computed.</summary>
    private const string Arch = "sm_90";

    public static void Render(
        StringBuilder text, IReadOnlyList<Dictionary<string, string>> bench, string? kernelReportPath, string modulesPath)
    {
        var culture = CultureInfo.InvariantCulture;
        text.AppendLine("### Kernel entries beside the measured speed").AppendLine();
        var rows = bench.Where(r => Csv.Text(r, "backend") == "attention.native" && DeviceReport.Listed(r)).ToList();
        if (rows.Count == 0)
        {
            text.AppendLine("No gpu-bench row of ours ran a kernel.").AppendLine();
            return;
        }

        var (metrics, note) = StaticMetrics(kernelReportPath);
        var jit = File.Exists(modulesPath)
            ? Csv.Read(modulesPath).Where(r => Csv.Text(r, "entry").Length > 0 && Csv.Text(r, "status") == "ok")
                .GroupBy(r => Csv.Text(r, "entry")).ToDictionary(g => g.Key, g => Csv.Text(g.First(), "registers"), StringComparer.Ordinal)
            : [];
        text.AppendLine(culture,
            $"Per gpu-bench row the entry it launched (split-KV: partial + merge; the metrics are the partial pass's). " +
            $"Static metrics ({Arch}): {note}. `regs JIT`: as the installed driver compiled the entry (modules.csv), with " +
            $"its difference from ptxas's where they differ. CTAs/SM from ptxas's registers and the shared memory the entry " +
            $"declares (a floor for SIMT and additive, which state the most their launchers ask for).").AppendLine();
        text.AppendLine("| shape | causal | dtype | kernel | entry | status | TFLOP/s | GB/s | regs ptxas | regs JIT | CTAs/SM | warps/SM | LDSM/HMMA | BAR/iter |");
        text.AppendLine("|---|---|---|---|---|---|---:|---:|---:|---:|---|---:|---:|---:|");
        foreach (var r in rows)
        {
            string entries = Csv.Text(r, "entry");
            string first = entries.Split('+')[0];
            var m = first.Length > 0 ? metrics.GetValueOrDefault(first) : null;
            string ptxasRegisters = m is null ? "—" : Csv.Text(m, "registers");
            string jitRegisters = first.Length > 0 && jit.TryGetValue(first, out string? registers) ? registers : "—";
            bool ok = Csv.Text(r, "status").StartsWith("ok", StringComparison.Ordinal);
            text.AppendLine(culture,
                $"| {Csv.Text(r, "name")} | {(Csv.Text(r, "causal") == "true" ? "causal" : "full")} | {Csv.Text(r, "dtype")} | " +
                $"{DeviceReport.Cell(Csv.Text(r, "kernel"))} | {(entries.Length > 0 ? string.Join(" + ", entries.Split('+')) : "—")} | " +
                $"{DeviceReport.Short(Csv.Text(r, "status"))} | {(ok ? Csv.Number(r, "tflops").ToString("F1", culture) : "—")} | " +
                $"{(ok ? Csv.Number(r, "gbps").ToString("F0", culture) : "—")} | {ptxasRegisters} | {Difference(jitRegisters, ptxasRegisters)} | " +
                $"{(m is null ? "—" : $"{Csv.Text(m, "ctas_per_sm")} ({Csv.Text(m, "ctas_limited_by")})")} | {(m is null ? "—" : Csv.Text(m, "warps_per_sm"))} | " +
                $"{(m is null ? "—" : PerHmma(m, "loop_ldsm"))} | {(m is null ? "—" : Csv.Text(m, "loop_bar"))} |");
        }

        text.AppendLine();
    }

    /// <summary>The kernel report's rows for <see cref="Arch"/> by entry, and a note saying where they come from or
    /// why there are none.</summary>
    private static (Dictionary<string, Dictionary<string, string>> Metrics, string Note) StaticMetrics(string? path)
    {
        if (path is null || !File.Exists(path))
        {
            return ([], "none (the pack holds no kernel-report.csv: ./build.sh device-pack writes it)");
        }

        var rows = Csv.Read(path).Where(r => Csv.Text(r, "arch") == Arch).ToList();
        if (rows.Count == 0)
        {
            string? why = File.ReadLines(path).FirstOrDefault(l => l.StartsWith('#'))?.TrimStart('#', ' ');
            return ([], $"none ({DeviceReport.Cell(why ?? $"kernel-report.csv has no {Arch} row")})");
        }

        return (rows.GroupBy(r => Csv.Text(r, "entry")).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal),
            "ptxas of the packed PTX (the pack's kernel-report.csv, `Native/check.sh kernel-report`)");
    }

    /// <summary>LDSM per HMMA of the main loop, or "-" where it has no HMMA.</summary>
    private static string PerHmma(Dictionary<string, string> metrics, string column)
    {
        double hmma = Csv.Number(metrics, "loop_hmma");
        double count = Csv.Number(metrics, column);
        return double.IsNaN(hmma) || double.IsNaN(count) || hmma == 0 ? "-" : (count / hmma).ToString("F3", CultureInfo.InvariantCulture);
    }

    /// <summary>The JIT's registers, with "(+n)" or "(−n)" against ptxas's where both are numbers and differ.</summary>
    private static string Difference(string jit, string ptxas) =>
        int.TryParse(jit, NumberStyles.Integer, CultureInfo.InvariantCulture, out int j)
        && int.TryParse(ptxas, NumberStyles.Integer, CultureInfo.InvariantCulture, out int p) && j != p
            ? $"**{j}** ({(j > p ? "+" : "−")}{Math.Abs(j - p)})"
            : jit;
}
