using System.Text;
using Attention.Native.Generators.Emit;
using Attention.Native.Generators.Models;
using Attention.Native.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Attention.Native.Generators;

/// <summary>
/// Reads the <c>.cu</c> and <c>.cuh</c> files given as <c>AdditionalFiles</c> and generates, for every params struct
/// an <c>extern "C" __global__</c> kernel takes, its C# mirror (<c>AttentionParams&lt;T&gt;</c>) and its launch
/// (<c>NativeKernels.Launch(kernel, in launch, in parameters)</c>), and <c>KernelNames</c>: every entry point, and a
/// generic lookup per dtype family (<c>&lt;stem&gt;_f32</c>, <c>_f16</c>, <c>_bf16</c>). Kernels may be written out or
/// come from entry macros (<c>#define</c>s that declare kernels), expanded wherever they are invoked. A launch whose
/// parameters do not match what the kernel declares is a C# compile error or, for a kernel handed another struct's
/// parameters, an exception before the driver is called.
/// </summary>
/// <remarks>
/// Pipeline: each file is parsed on its own into an equatable model (cached per file); the models are merged into a
/// catalog (macro expansion, ordering, duplicates, struct resolution, families); each struct's files are written from
/// position-free models, so editing one file or moving a kernel regenerates only what changed. Diagnostics flow
/// through their own outputs.
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

        context.RegisterSourceOutput(files.SelectMany(static (file, _) => file.Diagnostics.Items), Report);
        context.RegisterSourceOutput(catalog.SelectMany(static (catalog, _) => catalog.Diagnostics.Items), Report);

        IncrementalValueProvider<EquatableArray<KernelModel>> kernels = catalog
            .Select(static (catalog, _) => catalog.Kernels)
            .WithTrackingName(TrackingNames.Kernels);
        IncrementalValueProvider<EquatableArray<KernelFamily>> families = catalog
            .Select(static (catalog, _) => catalog.Families)
            .WithTrackingName(TrackingNames.Families);
        context.RegisterSourceOutput(
            kernels.Combine(families),
            static (output, names) => output.AddSource(KernelNamesWriter.HintName, Text(KernelNamesWriter.Write(names.Left, names.Right))));

        IncrementalValuesProvider<ParamsStruct> structs = catalog
            .Select(static (catalog, _) => catalog.Structs)
            .WithTrackingName(TrackingNames.Structs)
            .SelectMany(static (structs, _) => structs.Items)
            .WithTrackingName(TrackingNames.StructOutputs);
        context.RegisterSourceOutput(structs, static (output, paramsStruct) =>
        {
            output.AddSource(ParamsStructWriter.HintName(paramsStruct), Text(ParamsStructWriter.Write(paramsStruct)));
            output.AddSource(LaunchWriter.HintName(paramsStruct), Text(LaunchWriter.Write(paramsStruct)));
        });
    }

    private static void Report(SourceProductionContext output, DiagnosticInfo diagnostic) => output.ReportDiagnostic(diagnostic.ToDiagnostic());

    private static SourceText Text(string source) => SourceText.From(source, Encoding.UTF8);
}
