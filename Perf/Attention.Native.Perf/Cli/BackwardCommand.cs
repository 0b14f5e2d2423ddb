using Attention.Native.Perf.Backward;
using Attention.Native.Perf.Peers.Torch;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Attention.Native.Perf.Cli;

/// <summary>
/// <c>backward</c>: the CPU backend's attention backward beside libtorch's SDPA backward (TorchSharp) on the same fp32
/// operands, each shape without and with a causal mask, at each thread count: ms, GFLOP/s (<c>10·B·H·L²·D</c>, halved
/// when causal), libtorch's time over ours and the two gradients' relative difference. Writes backward.md and
/// backward.csv.
/// </summary>
internal sealed class BackwardCommand : Command<BackwardSettings>
{
    public override int Execute(CommandContext context, BackwardSettings settings, CancellationToken cancellationToken)
    {
        bool withTorch = settings.Peers == "torch";
        string torchVersion = "not measured";
        if (withTorch)
        {
            if (TorchPeer.TryLoad(out string reason) is not { } peer)
            {
                AnsiConsole.MarkupLine($"[red]torch could not be loaded:[/] {Markup.Escape(reason)}");
                return ExitCodes.BadArguments;
            }

            torchVersion = $"{peer.Version} ({peer.Settings})";
        }

        var cases = settings.Shapes.Split(',', StringSplitOptions.TrimEntries)
            .SelectMany(s => new[] { BackwardCase.TryParse(s, causal: false)!, BackwardCase.TryParse(s, causal: true)! });
        int[] threads = [.. settings.Threads.Split(',', StringSplitOptions.TrimEntries).Select(int.Parse)];
        string header = $"Attention backward, CPU backend beside {torchVersion}; median of {settings.Runs} interleaved runs; " +
            "GFLOP/s = 10·B·H·L²·D (halved when causal) per second; ours/torch = torch's time over ours.";
        AnsiConsole.WriteLine(header);
        var rows = new List<BackwardRow>();
        var table = new Table().AddColumns("shape (B, H, L, D)", "threads", "ours ms", "ours GFLOP/s", "torch ms", "torch GFLOP/s", "ours/torch", "difference");
        foreach (var c in cases)
        {
            foreach (int t in threads)
            {
                var row = BackwardSession.Measure(c, t, settings.Runs, withTorch);
                rows.Add(row);
                table.AddRow(c.ToString(), $"{t}", $"{row.OursMs:F1}", $"{row.OursGflops:F1}", $"{row.TorchMs:F1}",
                    $"{row.TorchGflops:F1}", $"{row.Ratio:F2}", $"{row.Difference:E1}");
            }
        }

        AnsiConsole.Write(table);
        string folder = settings.Out ?? Path.Combine("artifacts", "perf", $"backward-{DateTime.Now:yyyyMMdd-HHmmss}");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "backward.md"), BackwardSession.Markdown(rows, header));
        File.WriteAllText(Path.Combine(folder, "backward.csv"), BackwardSession.Csv(rows));
        AnsiConsole.WriteLine($"Wrote {Path.GetFullPath(folder)}");
        var off = rows.Where(r => r.Difference > BackwardSession.Tolerance).ToList();
        foreach (var r in off)
        {
            AnsiConsole.MarkupLine($"[red]{Markup.Escape(r.Case.ToString())}, {r.Threads} threads: gradients differ from torch's by {r.Difference:E2} > {BackwardSession.Tolerance:E0}[/]");
        }

        return off.Count == 0 ? ExitCodes.Success : ExitCodes.Failure;
    }
}
