using Attention.Native.Generators.Tests.Infrastructure;

namespace Attention.Native.Generators.Tests;

/// <summary>The generated source, compared with checked-in snapshots, and compiled cleanly against the contract types.</summary>
public sealed class LauncherSnapshotTests
{
    [Fact]
    public void Attention_simt_readme_signature() =>
        AssertSnapshot("AttentionSimt", InMemoryAdditionalText.Native("attention_simt.cu", CudaSamples.AttentionSimt));

    [Fact]
    public void Odd_formatting_comments_launch_bounds_and_restrict() =>
        AssertSnapshot("OddFormatting", InMemoryAdditionalText.Native("odd.cu", CudaSamples.OddFormatting));

    [Fact]
    public void Several_kernels_in_one_file() =>
        AssertSnapshot("SeveralKernels", InMemoryAdditionalText.Native("several.cu", CudaSamples.SeveralKernels));

    [Fact]
    public void Kernels_without_parameters() =>
        AssertSnapshot("NoParameters", InMemoryAdditionalText.Native("empty.cu", CudaSamples.NoParameters));

    [Fact]
    public void Parameter_names_become_camel_case_and_keywords_are_escaped() =>
        AssertSnapshot("ParameterNames", InMemoryAdditionalText.Native("names.cu", CudaSamples.ParameterNames));

    [Fact]
    public void No_cu_files_gives_empty_kernel_names() => AssertSnapshot("NoKernels");

    [Fact]
    public void Other_additional_files_are_ignored() =>
        AssertSnapshot("NoKernels", InMemoryAdditionalText.Native("kernels.cuh", CudaSamples.NoParameters),
            new InMemoryAdditionalText("/repo/README.md", CudaSamples.NoParameters));

    [Fact]
    public void Output_does_not_depend_on_the_order_of_the_files()
    {
        var a = InMemoryAdditionalText.Native("a.cu", CudaSamples.SeveralKernels);
        var b = InMemoryAdditionalText.Native("b.cu", CudaSamples.NoParameters);

        Assert.Equal(GeneratorHarness.Run(a, b).AllSources(), GeneratorHarness.Run(b, a).AllSources());
    }

    [Fact]
    public void Every_kernel_gets_its_own_file_and_one_kernel_names_file()
    {
        GeneratorRun run = GeneratorHarness.Run(InMemoryAdditionalText.Native("attention_simt.cu", CudaSamples.AttentionSimt));

        Assert.Equal(
            ["KernelNames.g.cs", "NativeKernels.AttentionSimtBf16.g.cs", "NativeKernels.AttentionSimtF16.g.cs", "NativeKernels.AttentionSimtF32.g.cs"],
            run.HintNames);
    }

    private static void AssertSnapshot(string name, params InMemoryAdditionalText[] files)
    {
        GeneratorRun run = GeneratorHarness.Run(files);

        Assert.Empty(run.Diagnostics);
        Assert.Empty(run.CompilerProblems());
        Snapshot.Match(name, run.AllSources());
    }
}
