using Attention.Native.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Attention.Native.Generators.Tests;

/// <summary>The models are equatable, so the driver reuses what did not change instead of regenerating it.</summary>
public sealed class IncrementalCachingTests
{
    private static readonly string[] OurSteps =
        [TrackingNames.Files, TrackingNames.Catalog, TrackingNames.Kernels, TrackingNames.Families, TrackingNames.Structs, TrackingNames.StructOutputs];

    private static InMemoryAdditionalText Header => InMemoryAdditionalText.Native("attention_params.cuh", CudaSamples.AttentionParamsHeader);

    [Fact]
    public void Second_run_with_unchanged_input_is_cached()
    {
        var file = InMemoryAdditionalText.Native("attention_simt.cu", CudaSamples.AttentionSimt);
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation();
        GeneratorDriver driver = GeneratorHarness.CreateDriver(file, Header).RunGenerators(compilation, TestContext.Current.CancellationToken);

        // The C# side changes (as it does on every keystroke); the .cu files do not.
        SyntaxTree unrelated = CSharpSyntaxTree.ParseText("class Unrelated { }", GeneratorHarness.ParseOptions, cancellationToken: TestContext.Current.CancellationToken);
        driver = driver.RunGenerators(compilation.AddSyntaxTrees(unrelated), TestContext.Current.CancellationToken);

        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        foreach (string step in OurSteps)
        {
            IEnumerable<IncrementalStepRunReason> reasons = Reasons(result, step);
            Assert.NotEmpty(reasons);
            Assert.All(reasons, reason => Assert.True(
                reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step}: {reason}"));
        }

        Assert.All(OutputReasons(result), reason => Assert.Equal(IncrementalStepRunReason.Cached, reason));
        Assert.Equal(2, OutputReasons(result).Count()); // KernelNames; the struct's output (its struct and launch files)
    }

    [Fact]
    public void Moving_kernels_within_a_file_regenerates_nothing()
    {
        var before = InMemoryAdditionalText.Native("several.cu", CudaSamples.SeveralKernels);
        var after = InMemoryAdditionalText.Native("several.cu", "// A new header comment\n// pushes every kernel down.\n" + CudaSamples.SeveralKernels);
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation();
        GeneratorDriver driver = GeneratorHarness.CreateDriver(before).RunGenerators(compilation, TestContext.Current.CancellationToken);

        driver = driver.ReplaceAdditionalText(before, after).RunGenerators(compilation, TestContext.Current.CancellationToken);

        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        Assert.Equal([IncrementalStepRunReason.Modified], Reasons(result, TrackingNames.Files));
        Assert.Equal([IncrementalStepRunReason.Unchanged], Reasons(result, TrackingNames.Catalog));
        Assert.Equal([IncrementalStepRunReason.Cached], Reasons(result, TrackingNames.Kernels));
        Assert.All(OutputReasons(result), reason => Assert.Equal(IncrementalStepRunReason.Cached, reason));
    }

    [Fact]
    public void Changing_one_struct_regenerates_only_its_files()
    {
        string two = CudaSamples.SeveralKernels + CudaSamples.ScaleFamily;
        var before = InMemoryAdditionalText.Native("several.cu", two);
        var after = InMemoryAdditionalText.Native("several.cu", two.Replace("float epsilon;", "float epsilon;\n  int groups;", StringComparison.Ordinal));
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation();
        GeneratorDriver driver = GeneratorHarness.CreateDriver(before).RunGenerators(compilation, TestContext.Current.CancellationToken);

        driver = driver.ReplaceAdditionalText(before, after).RunGenerators(compilation, TestContext.Current.CancellationToken);

        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        Assert.Equal([IncrementalStepRunReason.Modified, IncrementalStepRunReason.Unchanged], Reasons(result, TrackingNames.StructOutputs));
        Assert.Equal([IncrementalStepRunReason.Unchanged], Reasons(result, TrackingNames.Kernels));
        Assert.Contains("public int Groups;", result.GeneratedSources.Single(s => s.HintName == "NormParams.g.cs").SourceText.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Editing_one_file_leaves_the_other_files_outputs_unchanged()
    {
        var before = InMemoryAdditionalText.Native("several.cu", CudaSamples.SeveralKernels);
        var after = InMemoryAdditionalText.Native("several.cu", CudaSamples.SeveralKernels.Replace("float epsilon;", "float epsilon;\n  int groups;", StringComparison.Ordinal));
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation();
        GeneratorDriver driver = GeneratorHarness.CreateDriver(Header, InMemoryAdditionalText.Native("attention_simt.cu", CudaSamples.AttentionSimt), before)
            .RunGenerators(compilation, TestContext.Current.CancellationToken);

        driver = driver.ReplaceAdditionalText(before, after).RunGenerators(compilation, TestContext.Current.CancellationToken);

        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        Assert.Equal([IncrementalStepRunReason.Unchanged], Reasons(result, TrackingNames.Families));
        Assert.Equal([IncrementalStepRunReason.Unchanged], Reasons(result, TrackingNames.Kernels));
        Assert.Equal([IncrementalStepRunReason.Unchanged, IncrementalStepRunReason.Modified], Reasons(result, TrackingNames.StructOutputs));
    }

    [Fact]
    public void Changing_the_header_of_a_macro_generated_family_regenerates_its_struct()
    {
        var before = Header;
        var after = InMemoryAdditionalText.Native("attention_params.cuh", CudaSamples.AttentionParamsHeader.Replace("float scale;", "double scale;", StringComparison.Ordinal));
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation();
        GeneratorDriver driver = GeneratorHarness.CreateDriver(before, InMemoryAdditionalText.Native("attention_simt.cu", CudaSamples.AttentionSimt))
            .RunGenerators(compilation, TestContext.Current.CancellationToken);

        driver = driver.ReplaceAdditionalText(before, after).RunGenerators(compilation, TestContext.Current.CancellationToken);

        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        Assert.Equal([IncrementalStepRunReason.Modified], Reasons(result, TrackingNames.StructOutputs));
        Assert.Contains("public double Scale;", result.GeneratedSources.Single(s => s.HintName == "AttentionParams.g.cs").SourceText.ToString(), StringComparison.Ordinal);
    }

    private static IEnumerable<IncrementalStepRunReason> Reasons(GeneratorRunResult result, string step) =>
        result.TrackedSteps[step].SelectMany(run => run.Outputs).Select(output => output.Reason);

    private static IEnumerable<IncrementalStepRunReason> OutputReasons(GeneratorRunResult result) =>
        result.TrackedOutputSteps.SelectMany(pair => pair.Value).SelectMany(run => run.Outputs).Select(output => output.Reason);
}
