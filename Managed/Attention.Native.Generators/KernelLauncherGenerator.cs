using System.Text;
using Attention.Native.Generators.Emit;
using Attention.Native.Generators.Models;
using Attention.Native.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Attention.Native.Generators;

/// <summary>
/// Generates a typed launcher (<c>NativeKernels.&lt;Kernel&gt;</c>) for every <c>extern "C" __global__</c> kernel in
/// the <c>.cu</c> files given as <c>AdditionalFiles</c>, a generic one (<c>NativeKernels.&lt;Stem&gt;&lt;T&gt;</c>)
/// for every dtype family (<c>&lt;stem&gt;_f32</c>, <c>_f16</c>, <c>_bf16</c>), and <c>KernelNames</c>. Launch
/// arguments that do not match the CUDA signature are C# compile errors.
/// </summary>
/// <remarks>
/// Pipeline: each file is parsed on its own into an equatable model (cached per file); the models are merged into a
/// catalog (ordering, duplicates, families); launchers are emitted per kernel and per family from position-free
/// models, so editing one file or moving a kernel regenerates only what changed. Diagnostics flow through their own
/// outputs.
/// </remarks>
[Generator(LanguageNames.CSharp)]
public sealed class KernelLauncherGenerator : IIncrementalGenerator
{
    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<CudaFileModel> files = context.AdditionalTextsProvider
            .Where(static file => CudaFileParser.IsCudaSource(file.Path))
            .Select(static (file, cancellationToken) => CudaFileParser.Parse(file.Path, file.GetText(cancellationToken), cancellationToken))
            .WithTrackingName(TrackingNames.Files);

        IncrementalValueProvider<KernelCatalog> catalog = files.Collect()
            .Select(KernelCatalogBuilder.Build)
            .WithTrackingName(TrackingNames.Catalog);

        IncrementalValueProvider<EquatableArray<KernelModel>> kernels = catalog
            .Select(static (catalog, _) => catalog.Kernels)
            .WithTrackingName(TrackingNames.Kernels);

        context.RegisterSourceOutput(files.SelectMany(static (file, _) => file.Diagnostics.Items), Report);
        context.RegisterSourceOutput(catalog.SelectMany(static (catalog, _) => catalog.Diagnostics.Items), Report);

        context.RegisterSourceOutput(
            kernels.SelectMany(static (kernels, _) => kernels.Items).WithTrackingName(TrackingNames.Launchers),
            static (output, kernel) => output.AddSource(LauncherWriter.HintName(kernel), Text(LauncherWriter.Write(kernel))));

        IncrementalValueProvider<EquatableArray<KernelFamily>> families = catalog
            .Select(static (catalog, _) => catalog.Families)
            .WithTrackingName(TrackingNames.Families);
        context.RegisterSourceOutput(
            families.SelectMany(static (families, _) => families.Items).WithTrackingName(TrackingNames.FamilyLaunchers),
            static (output, family) => output.AddSource(FamilyWriter.HintName(family), Text(FamilyWriter.WriteLauncher(family))));

        context.RegisterSourceOutput(
            kernels.Combine(families),
            static (output, names) => output.AddSource(KernelNamesWriter.HintName, Text(KernelNamesWriter.Write(names.Left, names.Right))));
    }

    private static void Report(SourceProductionContext output, DiagnosticInfo diagnostic) => output.ReportDiagnostic(diagnostic.ToDiagnostic());

    private static SourceText Text(string source) => SourceText.From(source, Encoding.UTF8);
}
