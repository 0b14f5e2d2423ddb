namespace Attention.Native.IntegrationTests;

/// <summary>The programs built beside the library: the seed's examples and the perf tool's files.</summary>
[Trait("Category", "Integration")]
public sealed class SampleTests
{
    /// <summary>Tests/SeedSample on the CPU backend: the seed's two layer examples, each float64-checked, and continuous
    /// batching over a paged cache, checked against a causal forward per request (exit 1 when wrong).</summary>
    [Fact]
    public Task Seed_examples_match_their_float64_references() =>
        ProgramCheck.Run("seed-sample", TimeSpan.FromMinutes(5), "dotnet", ProgramCheck.BuiltDll("Tests/SeedSample", "SeedSample"), "--cpu");

    /// <summary>Tests/EmbeddingSample (`./build.sh embed`) on the CPU backend: two sentences embedded beside ONNX Runtime
    /// (exit 1 when an embedding differs from ORT's beyond the tolerance).</summary>
    [Fact]
    public Task Embedding_sample_matches_onnx_runtime() =>
        ProgramCheck.Run("embedding-sample", TimeSpan.FromMinutes(5), "dotnet", ProgramCheck.BuiltDll("Tests/EmbeddingSample", "EmbeddingSample"),
            "--cpu", "--threads", "1", "A man is playing a guitar.", "Café au lait, s'il vous plaît.");

    /// <summary>Tests/TrainSample (`./build.sh train`) on the CPU backend: it exits 1 unless the loss falls below 10 % of its
    /// start; here the loss curve and the heat map must also be PNG files.</summary>
    [Fact]
    public async Task Train_sample_loss_falls_and_its_charts_are_written()
    {
        string folder = Path.Combine(ProgramCheck.RepositoryRoot, "artifacts", "integration", "train");
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }

        await ProgramCheck.Run("train-sample", TimeSpan.FromMinutes(5), "dotnet", ProgramCheck.BuiltDll("Tests/TrainSample", "TrainSample"),
            "--cpu", "--out", folder);
        foreach (string chart in new[] { "loss.png", "cross-attention.png" })
        {
            byte[] bytes = File.ReadAllBytes(Path.Combine(folder, chart));
            Assert.True(bytes.Length > 1000 && bytes.AsSpan(0, 8).SequenceEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), $"{chart} is not a PNG");
        }
    }

    /// <summary>Perf/check-outputs.sh: compare, gemm and heatmap write valid Markdown, CSV and PNG files; bad options exit 2.</summary>
    [Fact]
    public Task Perf_tool_writes_its_tables_and_charts() =>
        ProgramCheck.Run("perf-outputs", TimeSpan.FromMinutes(10), "bash", "Perf/check-outputs.sh");
}
