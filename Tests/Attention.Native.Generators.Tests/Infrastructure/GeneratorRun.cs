using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.Loader;
using System.Text;
using Microsoft.CodeAnalysis;

namespace Attention.Native.Generators.Tests.Infrastructure;

/// <summary>What one generator run produced, and the compilation with its output added.</summary>
internal sealed class GeneratorRun(GeneratorRunResult result, Compilation compilation)
{
    public GeneratorRunResult Result { get; } = result;

    public Compilation Compilation { get; } = compilation;

    /// <summary>The generator's own diagnostics (ATTN00x).</summary>
    public ImmutableArray<Diagnostic> Diagnostics => Result.Diagnostics;

    /// <summary>The hint names of the generated files, in ordinal order.</summary>
    public IReadOnlyList<string> HintNames =>
        [.. Result.GeneratedSources.Select(source => source.HintName).OrderBy(name => name, StringComparer.Ordinal)];

    public string Source(string hintName) =>
        Result.GeneratedSources.Single(source => source.HintName == hintName).SourceText.ToString();

    /// <summary>Every generated file, in hint-name order, each under a banner: what the snapshots hold.</summary>
    public string AllSources()
    {
        var text = new StringBuilder();
        foreach (string hintName in HintNames)
        {
            text.Append("// ==== ").Append(hintName).Append(" ====\n").Append(Source(hintName));
        }

        return text.ToString();
    }

    /// <summary>The compilation, generated code included, emitted and loaded into a collectible context of its own.</summary>
    public Assembly Load(string contextName)
    {
        using var image = new MemoryStream();
        Microsoft.CodeAnalysis.Emit.EmitResult result = Compilation.Emit(image);
        Assert.True(result.Success, string.Join("\n", result.Diagnostics));
        image.Position = 0;
        return new AssemblyLoadContext(contextName, isCollectible: true).LoadFromStream(image);
    }

    /// <summary>The C# compiler's warnings and errors for the library code plus the generated code.</summary>
    public ImmutableArray<Diagnostic> CompilerProblems() =>
        [.. Compilation.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning)];
}
