using Attention.Native.Perf.Bench;
using Attention.Native.Perf.Cli;
using Spectre.Console;
using Spectre.Console.Cli;

// `bench` hands its arguments to BenchmarkDotNet untouched, so it is dispatched before Spectre parses anything.
if (args.Length > 0 && args[0].Equals("bench", StringComparison.OrdinalIgnoreCase))
{
    return BenchEntry.Run(args[1..]);
}

// Redirected output (CI logs, files) has no width; Spectre then assumes 80 columns and wraps the wide table.
if (Console.IsOutputRedirected)
{
    AnsiConsole.Profile.Width = 240;
}

var app = new CommandApp<CompareCommand>();
app.Configure(config =>
{
    config.SetApplicationName("Attention.Native.Perf");
    config.UseStrictParsing();
    config.AddCommand<CompareCommand>("compare")
        .WithDescription("Time every shape on every backend present and check it against the float64 reference (the default).")
        .WithExample("compare", "--quick")
        .WithExample("compare", "--threads", "2", "--shapes", "decode", "--out", "perf-results");
    config.AddCommand<GemmCommand>("gemm")
        .WithDescription("Time the CPU SGEMM (cubes and the attention layer's projections) against the FMA peak measured in the same run, and check it against float64.")
        .WithExample("gemm", "--quick")
        .WithExample("gemm", "--threads", "1,2", "--shapes", "Bt", "--out", "gemm-results");
    config.AddCommand<HeatmapCommand>("heatmap")
        .WithDescription("Draw one head's attention weights (the CPU backend's probabilities output) as a PNG heat map: by default the case study 我 是 一只 狗 attending to I am a dog.")
        .WithExample("heatmap", "--out", "heatmap.png")
        .WithExample("heatmap", "--random", "--lq", "32", "--lk", "48", "--heads", "4", "--head", "2", "--causal");
    config.AddCommand<SweepCommand>("sweep")
        .WithDescription("Correctness sweep: random cases covering every option, CUDA and CPU against the float64 reference.")
        .WithExample("sweep", "--cases", "600", "--out", "sweep.csv")
        .WithExample("sweep", "--dry-run");
    config.AddCommand<BackwardCommand>("backward")
        .WithDescription("Time the CPU attention backward beside libtorch's SDPA backward (TorchSharp) on the same operands, causal and not.")
        .WithExample("backward", "--threads", "1,2", "--shapes", "1:8:2048:64,1:16:1024:128");
    config.AddCommand<GpuBenchCommand>("gpu-bench")
        .WithDescription("Time the CUDA backend with CUDA events on Perf/device/shapes.json (the shapes torch_sdpa.py times).")
        .WithExample("gpu-bench", "--out", "bench.csv");
    config.AddCommand<GpuModulesCommand>("gpu-modules")
        .WithDescription("Load every CUDA kernel module: the driver's JIT info log, each entry's registers and spills, where libcuda and cuBLAS came from.")
        .WithExample("gpu-modules", "--out", "modules.csv");
    config.AddCommand<LayerCommand>("layer")
        .WithDescription("Time a MultiHeadAttention forward on the CPU (seed and long shapes): ms, GFLOP/s, projections vs attention.")
        .WithExample("layer", "--shapes", "seed", "--threads", "1");
    config.AddCommand<GpuLayersCommand>("gpu-layers")
        .WithDescription("Check the layers on CUDA against the CPU backend (float64-tested) and time the forward, projections vs attention.")
        .WithExample("gpu-layers", "--dry-run");
    config.AddCommand<EmbedBenchCommand>("embed-bench")
        .WithDescription("Sentences per second of all-MiniLM-L6-v2 embeddings: the embedding sample on the CPU backend beside ONNX Runtime on the same model.onnx, checked against it and profiled.")
        .WithExample("embed-bench", "--quick", "--batches", "8", "--tokens", "64")
        .WithExample("embed-bench", "--threads", "1,2", "--out", "embed-results");
    config.AddCommand<DeviceReportCommand>("device-report")
        .WithDescription("Render Perf/device/run.sh's report.md from the files its steps wrote.");
    config.AddExample("bench");
    config.AddExample("bench", "decode", "--join");
    config.SetExceptionHandler((exception, _) => ExitCodes.FromException(exception));
});
return app.Run(args);
