using Attention.Native.Cpu;
using Attention.Native.Cuda;
using Attention.Native.Perf.Layers;
using Spectre.Console.Cli;

namespace Attention.Native.Perf.Cli;

/// <summary>
/// <c>gpu-layers</c>: the layers (MultiHeadAttention, KeyValueCache, AdditiveAttention) on CUDA checked against the
/// CPU backend, then the forward time on the seed and long shapes split into projections (cuBLAS) and attention.
/// Exit 1 when a check fails or CUDA is unavailable outside <c>--dry-run</c>.
/// </summary>
internal sealed class GpuLayersCommand : Command<GpuLayersSettings>
{
    public override int Execute(CommandContext context, GpuLayersSettings settings, CancellationToken cancellationToken)
    {
        using var cpu = new CpuBackend();
        bool available = CudaBackend.IsAvailable(out string reason);
        if (!available || settings.DryRun)
        {
            Console.WriteLine($"gpu-layers: CUDA: not run ({(available ? "dry run; " : "no device: ")}{reason})");
            Console.WriteLine("gpu-layers: exercising the checks on a CPU stand-in (not a GPU result):");
            using var standIn = new CpuBackend(new CpuBackendOptions { ThreadCount = 1 });
            bool standInOk = Report(LayerChecks.Run(standIn, cpu));
            return settings.DryRun && standInOk ? ExitCodes.Success : ExitCodes.Failure;
        }

        using var cuda = new CudaBackend();
        Console.WriteLine($"gpu-layers: {cuda.Description} vs {cpu.Description}");
        bool ok = Report(LayerChecks.Run(cuda, cpu));
        foreach (var workload in LayerWorkload.All)
        {
            var r = settings.Repeats;
            Print(workload, "fp32", LayerTiming.Measure<float>(cuda, workload, r, new Random(1)), LayerTiming.MeasureDecodeStep<float>(cuda, workload, r, new Random(1)));
            Print(workload, "tf32", LayerTiming.Measure<float>(cuda, workload, r, new Random(1), tf32: true), null);
            Print(workload, "fp16", LayerTiming.Measure<Half>(cuda, workload, r, new Random(1)), LayerTiming.MeasureDecodeStep<Half>(cuda, workload, r, new Random(1)));
            Print(workload, "bf16", LayerTiming.Measure<BFloat16>(cuda, workload, r, new Random(1)), LayerTiming.MeasureDecodeStep<BFloat16>(cuda, workload, r, new Random(1)));
        }

        return ok ? ExitCodes.Success : ExitCodes.Failure;
    }

    private static void Print(LayerWorkload workload, string type, LayerTiming t, double? stepMs) =>
        Console.WriteLine(
            $"gpu-layers: {workload} {type}: forward {t.ForwardMs:F3} ms ({workload.Flops / (t.ForwardMs * 1e6):F0} GFLOP/s), " +
            $"projections {t.ProjectionMs:F3} ms ({workload.ProjectionFlops / (Math.Max(t.ProjectionMs, 1e-6) * 1e6):F0} GFLOP/s), " +
            $"attention {t.AttentionMs:F3} ms ({workload.AttentionFlops / (t.AttentionMs * 1e6):F0} GFLOP/s)" +
            (stepMs is { } step ? $", decode step {step:F3} ms with {workload.Length} cached" : string.Empty));

    private static bool Report(IEnumerable<LayerChecks.Check> checks)
    {
        bool ok = true;
        foreach (var check in checks)
        {
            ok &= check.Passed;
            Console.WriteLine($"  {(check.Passed ? "ok  " : "FAIL")} {check.Name}: relative error {check.Error:E2} (tolerance {check.Tolerance:E0})");
        }

        return ok;
    }
}
