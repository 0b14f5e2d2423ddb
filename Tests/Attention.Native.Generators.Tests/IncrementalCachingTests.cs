using Attention.Native.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Attention.Native.Generators.Tests;

/// <summary>The models are equatable, so the driver reuses what did not change instead of regenerating it.</summary>
public sealed class IncrementalCachingTests
{
    private static readonly string[] OurSteps =
        [TrackingNames.Files, TrackingNames.Catalog, TrackingNames.Kernels, TrackingNames.Launchers, TrackingNames.Families, TrackingNames.FamilyLaunchers];

    [Fact]
    public void Second_run_with_unchanged_input_is_cached()
    {
        var file = InMemoryAdditionalText.Native("attention_simt.cu", CudaSamples.AttentionSimt);
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation();
        GeneratorDriver driver = GeneratorHarness.CreateDriver(file).RunGenerators(compilation, TestContext.Current.CancellationToken);

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
        Assert.Equal(5, OutputReasons(result).Count()); // three launchers, the family's, KernelNames
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
    public void Changing_one_signature_regenerates_only_its_launcher()
    {
        var before = InMemoryAdditionalText.Native("several.cu", CudaSamples.SeveralKernels);
        var after = InMemoryAdditionalText.Native(
            "several.cu", CudaSamples.SeveralKernels.Replace("float epsilon", "float epsilon, int groups", StringComparison.Ordinal));
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation();
        GeneratorDriver driver = GeneratorHarness.CreateDriver(before).RunGenerators(compilation, TestContext.Current.CancellationToken);

        driver = driver.ReplaceAdditionalText(before, after).RunGenerators(compilation, TestContext.Current.CancellationToken);

        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        Assert.Equal(
            [IncrementalStepRunReason.Unchanged, IncrementalStepRunReason.Modified, IncrementalStepRunReason.Unchanged],
            Reasons(result, TrackingNames.Launchers));
        Assert.Contains("int groups", result.GeneratedSources.Single(s => s.HintName == "NativeKernels.LayerNormF32.g.cs").SourceText.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Editing_another_file_leaves_the_family_launcher_cached()
    {
        var family = InMemoryAdditionalText.Native("attention_simt.cu", CudaSamples.AttentionSimt);
        var before = InMemoryAdditionalText.Native("several.cu", CudaSamples.SeveralKernels);
        var after = InMemoryAdditionalText.Native(
            "several.cu", CudaSamples.SeveralKernels.Replace("float epsilon", "float epsilon, int groups", StringComparison.Ordinal));
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation();
        GeneratorDriver driver = GeneratorHarness.CreateDriver(family, before).RunGenerators(compilation, TestContext.Current.CancellationToken);

        driver = driver.ReplaceAdditionalText(before, after).RunGenerators(compilation, TestContext.Current.CancellationToken);

        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        Assert.Equal([IncrementalStepRunReason.Unchanged], Reasons(result, TrackingNames.Families));
        Assert.Equal([IncrementalStepRunReason.Cached], Reasons(result, TrackingNames.FamilyLaunchers));
    }

    [Fact]
    public void Changing_a_member_signature_regenerates_the_family_launcher()
    {
        var before = InMemoryAdditionalText.Native("scale.cu", CudaSamples.ScaleFamily);
        var after = InMemoryAdditionalText.Native("scale.cu", CudaSamples.ScaleFamily.Replace("float factor", "double factor", StringComparison.Ordinal));
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation();
        GeneratorDriver driver = GeneratorHarness.CreateDriver(before).RunGenerators(compilation, TestContext.Current.CancellationToken);

        driver = driver.ReplaceAdditionalText(before, after).RunGenerators(compilation, TestContext.Current.CancellationToken);

        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        Assert.Equal([IncrementalStepRunReason.Modified], Reasons(result, TrackingNames.FamilyLaunchers));
        Assert.Contains("double factor", result.GeneratedSources.Single(s => s.HintName == "NativeKernels.Scale.g.cs").SourceText.ToString(), StringComparison.Ordinal);
    }

    private static IEnumerable<IncrementalStepRunReason> Reasons(GeneratorRunResult result, string step) =>
        result.TrackedSteps[step].SelectMany(run => run.Outputs).Select(output => output.Reason);

    private static IEnumerable<IncrementalStepRunReason> OutputReasons(GeneratorRunResult result) =>
        result.TrackedOutputSteps.SelectMany(pair => pair.Value).SelectMany(run => run.Outputs).Select(output => output.Reason);
}
