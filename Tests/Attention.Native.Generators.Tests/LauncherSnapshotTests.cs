using Attention.Native.Generators.Tests.Infrastructure;

namespace Attention.Native.Generators.Tests;

/// <summary>The generated source, compared with checked-in snapshots, and compiled cleanly against the contract types.</summary>
public sealed class LauncherSnapshotTests
{
    [Fact]
    public void Attention_simt_readme_signature() =>
        AssertSnapshot("AttentionSimt", InMemoryAdditionalText.Native("attention_simt.cu", CudaSamples.AttentionSimt));

    [Fact]
    public void Partial_families_f32_f16_and_f16_bf16() =>
        AssertSnapshot("PartialFamilies", InMemoryAdditionalText.Native("families.cu", CudaSamples.PartialFamilies));

    /// <summary>The snapshot starts with the ATTN006 warning; each kernel keeps its launcher, there is no generic one.</summary>
    [Fact]
    public void Mismatched_family_gets_ATTN006_and_only_per_kernel_launchers()
    {
        GeneratorRun run = GeneratorHarness.Run(InMemoryAdditionalText.Native("softmax.cu", CudaSamples.MismatchedFamily));

        Assert.Equal(["ATTN006"], run.Diagnostics.Select(d => d.Id));
        Assert.Empty(run.CompilerProblems());
        Snapshot.Match("MismatchedFamily", string.Concat(run.Diagnostics.Select(d => "// " + d + "\n")) + run.AllSources());
    }

    [Fact]
    public void Kernels_outside_families_are_generated_as_without_them()
    {
        var several = InMemoryAdditionalText.Native("several.cu", CudaSamples.SeveralKernels);
        GeneratorRun alone = GeneratorHarness.Run(several);
        GeneratorRun withFamily = GeneratorHarness.Run(several, InMemoryAdditionalText.Native("attention_simt.cu", CudaSamples.AttentionSimt));

        // zero_f32, layer_norm_f32 and add_bias_f16 each have a dtype suffix, but no sibling: no family.
        Assert.Equal(
            [
                "KernelNames.g.cs", "NativeKernels.AddBiasF16.g.cs", "NativeKernels.AttentionSimt.g.cs", "NativeKernels.AttentionSimtBf16.g.cs",
                "NativeKernels.AttentionSimtF16.g.cs", "NativeKernels.AttentionSimtF32.g.cs", "NativeKernels.LayerNormF32.g.cs",
                "NativeKernels.ZeroF32.g.cs",
            ],
            withFamily.HintNames);
        Assert.All(alone.HintNames.Where(name => name != "KernelNames.g.cs"), name => Assert.Equal(alone.Source(name), withFamily.Source(name)));
        Assert.Empty(withFamily.CompilerProblems());
    }

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
    public void Every_kernel_and_family_gets_its_own_file_and_one_kernel_names_file()
    {
        GeneratorRun run = GeneratorHarness.Run(InMemoryAdditionalText.Native("attention_simt.cu", CudaSamples.AttentionSimt));

        Assert.Equal(
            [
                "KernelNames.g.cs", "NativeKernels.AttentionSimt.g.cs", "NativeKernels.AttentionSimtBf16.g.cs",
                "NativeKernels.AttentionSimtF16.g.cs", "NativeKernels.AttentionSimtF32.g.cs",
            ],
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
