using Attention.Native.Cpu.Simd;
using Attention.Native.Perf.Charts;
using Attention.Native.Perf.Compare;
using Attention.Native.Perf.Limits;
using Attention.Native.Perf.Peers;
using Attention.Native.Perf.Report;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Attention.Native.Perf.Cli;

/// <summary>
/// <c>compare</c>: measures the machine's limits, times every shape on every backend present, checks each output
/// against the float64 reference, prints the table and writes it (Markdown, CSV, PNG charts) into the output folder.
/// Exit code 1 when an error exceeds the tolerance.
/// </summary>
internal sealed class CompareCommand : Command<CompareSettings>
{
    public override int Execute(CommandContext context, CompareSettings settings, CancellationToken cancellationToken)
    {
        int seed = settings.Seed ?? Random.Shared.Next();
        var plan = settings.Quick ? RepetitionPlan.Quick : RepetitionPlan.Full;
        var notes = new List<string>();
        void Note(string line)
        {
            notes.Add(line);
            AnsiConsole.WriteLine(line);
        }

        Note(MachineDescription.Text);
        Note(LoadAverage.Describe("before"));
        var types = settings.OperandTypeList;
        string converted = types.Any(t => t is OperandType.Half or OperandType.BFloat16)
            ? " (half and bf16 round the same values; their reference uses the rounded inputs)"
            : string.Empty;
        if (types.Contains(OperandType.Int8Cache))
        {
            converted += " (int8kv quantises the same K and V to int8 with a scale per (batch, KV head, key), as KeyValueCacheStorage.Int8 stores them; Q and O stay fp32, and its reference uses the dequantised K and V; GB/s counts the int8 bytes and the scales)";
        }

        if (types.Contains(OperandType.Float8Cache))
        {
            converted += " (e4m3kv quantises the same K and V to fp8 e4m3 with a scale per KV head, max|x|/448 over the head, as a calibrated KeyValueCacheStorage.Float8E4M3 stores them; Q and O stay fp32, and its reference uses the dequantised K and V)";
        }
        Note($"Operands: random fp32 in ±[0.05, 1]{converted}, seed {seed} (--seed {seed} reproduces them); {(settings.Quick ? "quick" : "full")} repetitions.");
        if (BuildCheck.Warning() is { } warning)
        {
            Note(warning);
        }

        AnsiConsole.WriteLine(ConsoleReport.LimitsCaption);
        var before = MeasureLimits(settings, "before");
        ConsoleReport.WriteLimits((string.Empty, before));

        var absent = new List<string>();
        var setups = BackendCatalog.Discover(settings.BackendKinds, settings.ThreadCounts, settings.CpuVariants, absent);
        foreach (string line in absent)
        {
            Note($"Not measured: {line}");
        }

        if (setups.Any(s => s.Kind == AttentionBackendKind.Cpu && s.Variant != Cpu.CpuKernelVariant.Auto && !CpuIsa.IsAccelerated(s.Variant)))
        {
            Note("Variants marked (emulated) lack hardware support here: they run in software, very slowly, and their times say nothing about real hardware.");
        }

        var peers = LoadPeers(settings, setups, types, Note);
        var skipped = new List<string>();
        var notMeasured = new List<string>();
        var rows = CompareSession.Run(settings.Cases, types, setups, peers, plan, seed, skipped, notMeasured, settings.Paged ?? 0);
        foreach (string line in skipped)
        {
            Note($"Peer not measured: {line}");
        }

        foreach (string line in notMeasured)
        {
            Note($"Not measured: {line}");
        }

        // Other processes only ever lower a measured limit: measure again and keep the higher of the two.
        var after = MeasureLimits(settings, "after");
        var limits = MachineLimits.Best(before, after);
        (string, MachineLimits)[] measured = [("before", before), ("after", after)];
        AnsiConsole.WriteLine("Machine limits measured again after the timings; the fractions below use the higher of the two.");
        ConsoleReport.WriteLimits(measured);
        ConsoleReport.WriteRows(rows, limits);
        ConsoleReport.WritePeers(rows);
        Note(LoadAverage.Describe("after"));
        string folder = settings.OutputFolder;
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "compare.md"), MarkdownReport.Render(measured, limits, rows, notes));
        File.WriteAllText(Path.Combine(folder, "compare.csv"), CsvReport.Render(rows, limits));
        ChartOutput.WriteAndList(folder, ["compare.md", "compare.csv"], () => CompareCharts.Write(rows, folder, MachineDescription.Short));

        int failures = rows.Count(r => !r.Passes);
        if (failures > 0)
        {
            string peerFailures = string.Join(", ", rows.Where(r => !r.Passes && r.Peer is not null).Select(r => $"{r.Peer} on {r.Case.Label}").Distinct());
            string whose = peerFailures.Length > 0 ? $" Peers among them: {peerFailures}." : string.Empty;
            AnsiConsole.MarkupLine($"[red]{failures} result(s) exceed the error tolerance of their dtype ({Markup.Escape(Tolerances(types))}).{Markup.Escape(whose)}[/]");
            return ExitCodes.Failure;
        }

        AnsiConsole.WriteLine($"All {rows.Count} results within {Tolerances(types)} of the float64 reference.");
        return ExitCodes.Success;
    }

    /// <summary>E.g. <c>1.0E-5 (float), 1.5E-3 (half)</c>.</summary>
    private static string Tolerances(IEnumerable<OperandType> types) =>
        string.Join(", ", types.Select(t => $"{RowCells.Number(t.Tolerance(), "0.0E+0")} ({t.Name()})"));

    /// <summary>The peers asked for (every one that loads by default), with a note per peer left out and why.</summary>
    private static List<IAttentionPeer> LoadPeers(
        CompareSettings settings, IReadOnlyList<BackendSetup> setups, IReadOnlyList<OperandType> types, Action<string> note)
    {
        var peers = new List<IAttentionPeer>();
        foreach (string name in settings.PeerNames ?? PeerCatalog.Names)
        {
            if (PeerCatalog.Load(name, out string reason) is { } peer)
            {
                peers.Add(peer);
            }
            else
            {
                note($"Peer not measured: {name}: {reason}");
            }
        }

        if (peers.Count == 0)
        {
            return peers;
        }

        if (!setups.Any(s => s.Kind == AttentionBackendKind.Cpu))
        {
            note($"Peers not measured: {string.Join(", ", peers.Select(p => p.Name))} run beside the CPU backend, which is not measured (--backends).");
            return [];
        }

        if (!types.Contains(OperandType.Float))
        {
            note($"Peers not measured: {string.Join(", ", peers.Select(p => p.Name))} run on float operands only (--dtypes).");
            return [];
        }

        note($"Peers: {string.Join("; ", peers.Select(p => $"{p.Name} ({p.Version}: {p.Settings})"))}. On the float operands, beside the first CPU " +
            "variant at each thread count with as many threads, their timed runs interleaved with its runs; ours/peer is the peer's median time over ours.");
        return peers;
    }

    private static MachineLimits MeasureLimits(CompareSettings settings, string when) =>
        ProgressDisplay.Run($"machine limits ({when})", 2 * settings.ThreadCounts.Count, step =>
            MachineLimits.Measure(settings.ThreadCounts, settings.Quick, step));
}
