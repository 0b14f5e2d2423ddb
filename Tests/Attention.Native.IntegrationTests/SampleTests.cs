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

    /// <summary>Perf/check-outputs.sh: compare, gemm and heatmap write valid Markdown, CSV and PNG files; bad options exit 2.</summary>
    [Fact]
    public Task Perf_tool_writes_its_tables_and_charts() =>
        ProgramCheck.Run("perf-outputs", TimeSpan.FromMinutes(10), "bash", "Perf/check-outputs.sh");
}
