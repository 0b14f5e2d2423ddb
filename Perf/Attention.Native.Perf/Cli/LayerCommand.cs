using Attention.Native.Cpu;
using Attention.Native.Perf.Layers;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Attention.Native.Perf.Cli;

/// <summary>
/// <c>layer</c>: times a MultiHeadAttention self-attention forward on the CPU backend and reports ms, GFLOP/s
/// (projections 2·M·N·K each plus attention 4·B·H·L²·D) and the split between projections and attention, and the time
/// of one decoding step (a new token per sequence) with the whole sequence cached.
/// </summary>
internal sealed class LayerCommand : Command<LayerSettings>
{
    public override int Execute(CommandContext context, LayerSettings settings, CancellationToken cancellationToken)
    {
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = settings.Threads });
        AnsiConsole.WriteLine($"layer: {backend.Description}; median of {settings.Repeats} runs");
        var table = new Table().AddColumns("shape", "type", "forward ms", "GFLOP/s", "projections ms (GFLOP/s)", "attention ms (GFLOP/s)", "projections share", "decode step ms");
        foreach (var workload in LayerWorkload.Filter(settings.Shapes))
        {
            foreach (string type in settings.Types.Split(',', StringSplitOptions.TrimEntries))
            {
                var (t, step) = type switch
                {
                    "half" => (LayerTiming.Measure<Half>(backend, workload, settings.Repeats, new Random(1)),
                        LayerTiming.MeasureDecodeStep<Half>(backend, workload, settings.Repeats, new Random(1))),
                    "bfloat16" => (LayerTiming.Measure<BFloat16>(backend, workload, settings.Repeats, new Random(1)),
                        LayerTiming.MeasureDecodeStep<BFloat16>(backend, workload, settings.Repeats, new Random(1))),
                    _ => (LayerTiming.Measure<float>(backend, workload, settings.Repeats, new Random(1)),
                        LayerTiming.MeasureDecodeStep<float>(backend, workload, settings.Repeats, new Random(1))),
                };
                table.AddRow(
                    workload.ToString(),
                    type,
                    $"{t.ForwardMs:F1}",
                    $"{workload.Flops / (t.ForwardMs * 1e6):F1}",
                    $"{t.ProjectionMs:F1} ({workload.ProjectionFlops / (t.ProjectionMs * 1e6):F1})",
                    $"{t.AttentionMs:F1} ({workload.AttentionFlops / (t.AttentionMs * 1e6):F1})",
                    $"{100 * t.ProjectionMs / t.ForwardMs:F0} %",
                    $"{step:F2}");
            }
        }

        AnsiConsole.Write(table);
        return ExitCodes.Success;
    }
}
