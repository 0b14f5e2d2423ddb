using Attention.Native.Generators.Tests.Infrastructure;

namespace Attention.Native.Generators.Tests;

/// <summary>The generated source, compared with checked-in snapshots, and compiled cleanly against the contract types.</summary>
public sealed class SnapshotTests
{
    private static InMemoryAdditionalText Header => InMemoryAdditionalText.Native("attention_params.cuh", CudaSamples.AttentionParamsHeader);

    [Fact]
    public void Attention_params_and_entry_macro_across_files() =>
        AssertSnapshot("AttentionSimt", Header, InMemoryAdditionalText.Native("attention_simt.cu", CudaSamples.AttentionSimt));

    [Fact]
    public void Partial_families_f32_f16_and_f16_bf16() =>
        AssertSnapshot("PartialFamilies", InMemoryAdditionalText.Native("families.cu", CudaSamples.PartialFamilies));

    /// <summary>The snapshot starts with the ATTN006 warning; each kernel keeps its name and the struct its launch.</summary>
    [Fact]
    public void Mismatched_family_gets_ATTN006_and_no_generic_lookup()
    {
        GeneratorRun run = GeneratorHarness.Run(InMemoryAdditionalText.Native("softmax.cu", CudaSamples.MismatchedFamily));

        Assert.Equal(["ATTN006"], run.Diagnostics.Select(d => d.Id));
        Assert.Empty(run.CompilerProblems());
        Snapshot.Match("MismatchedFamily", string.Concat(run.Diagnostics.Select(d => "// " + d + "\n")) + run.AllSources());
    }

    [Fact]
    public void Odd_formatting_comments_launch_bounds_namespaces_and_look_alikes() =>
        AssertSnapshot("OddFormatting", InMemoryAdditionalText.Native("odd.cu", CudaSamples.OddFormatting));

    [Fact]
    public void Several_kernels_taking_one_plain_struct() =>
        AssertSnapshot("SeveralKernels", InMemoryAdditionalText.Native("several.cu", CudaSamples.SeveralKernels));

    [Fact]
    public void Field_layout_padding_and_names() =>
        AssertSnapshot("Layout", InMemoryAdditionalText.Native("layout.cu", CudaSamples.Layout));

    [Fact]
    public void No_cu_files_gives_empty_kernel_names() => AssertSnapshot("NoKernels");

    [Fact]
    public void Other_additional_files_are_ignored() =>
        AssertSnapshot("NoKernels", new InMemoryAdditionalText("/repo/Native/README.md", CudaSamples.SeveralKernels),
            new InMemoryAdditionalText("/repo/Native/kernels.cpp", CudaSamples.SeveralKernels));

    [Fact]
    public void Structs_no_kernel_takes_are_not_generated()
    {
        GeneratorRun run = GeneratorHarness.Run(Header);

        Assert.Empty(run.Diagnostics);
        Assert.Equal(["KernelNames.g.cs"], run.HintNames);
    }

    [Fact]
    public void Output_does_not_depend_on_the_order_of_the_files()
    {
        var a = InMemoryAdditionalText.Native("a.cu", CudaSamples.AttentionSimt);
        var b = InMemoryAdditionalText.Native("b.cu", CudaSamples.SeveralKernels);

        Assert.Equal(GeneratorHarness.Run(a, Header, b).AllSources(), GeneratorHarness.Run(b, a, Header).AllSources());
    }

    [Fact]
    public void Every_struct_gets_its_struct_and_launch_files_and_there_is_one_kernel_names_file()
    {
        GeneratorRun run = GeneratorHarness.Run(
            Header, InMemoryAdditionalText.Native("attention_simt.cu", CudaSamples.AttentionSimt), InMemoryAdditionalText.Native("several.cu", CudaSamples.SeveralKernels));

        Assert.Equal(
            ["AttentionParams.g.cs", "KernelNames.g.cs", "NativeKernels.AttentionParams.g.cs", "NativeKernels.NormParams.g.cs", "NormParams.g.cs"],
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
