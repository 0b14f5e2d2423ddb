using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Attention.Native.Generators.Tests.Infrastructure;

/// <summary>Runs <see cref="KernelLauncherGenerator"/> the way the library build does, on in-memory files.</summary>
internal static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions =
        new(LanguageVersion.Latest, DocumentationMode.Diagnose);

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(LoadFrameworkReferences);

    /// <summary>A compilation of the contract types plus <paramref name="sources"/>, as the library would have.</summary>
    public static CSharpCompilation CreateCompilation(params string[] sources)
    {
        IEnumerable<string> all = new[] { ContractSources.Stubs, ContractSources.DevicePointer, ContractSources.LaunchConfiguration }
            .Concat(sources);
        return CSharpCompilation.Create(
            "Attention.Native",
            all.Select(source => CSharpSyntaxTree.ParseText(source, ParseOptions)),
            References.Value,
            new CSharpCompilationOptions(
                OutputKind.DynamicallyLinkedLibrary,
                allowUnsafe: true,
                nullableContextOptions: NullableContextOptions.Enable));
    }

    /// <summary>A driver that records every pipeline step, for the caching tests.</summary>
    public static GeneratorDriver CreateDriver(params AdditionalText[] files) =>
        CSharpGeneratorDriver.Create(
            [new KernelLauncherGenerator().AsSourceGenerator()],
            files,
            ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    public static GeneratorRun Run(params AdditionalText[] files) => Run(files, []);

    public static GeneratorRun Run(AdditionalText[] files, string[] csharpSources)
    {
        GeneratorDriver driver = CreateDriver(files)
            .RunGeneratorsAndUpdateCompilation(CreateCompilation(csharpSources), out Compilation output, out _);
        return new GeneratorRun(driver.GetRunResult().Results.Single(), output);
    }

    /// <summary>The running framework's assemblies: what the library compiles against, near enough.</summary>
    private static ImmutableArray<MetadataReference> LoadFrameworkReferences()
    {
        string frameworkDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        return [.. Directory.GetFiles(frameworkDirectory, "System*.dll")
            .Where(IsManagedAssembly)
            .OrderBy(path => path, StringComparer.Ordinal)
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))];
    }

    private static bool IsManagedAssembly(string path)
    {
        try
        {
            _ = System.Reflection.AssemblyName.GetAssemblyName(path);
            return true;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }
}
