using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Threading;
using Attention.Native.Generators.Models;
using Microsoft.CodeAnalysis.Text;

namespace Attention.Native.Generators.Parsing;

/// <summary>
/// Turns one <c>.cu</c> or <c>.cuh</c> file into what it contributes: the kernels declared in it as written, its
/// structs, its entry macros, the invocations that may use them, and the diagnostics it deserves on its own.
/// </summary>
internal static class CudaFileParser
{
    /// <summary>Whether an additional file is CUDA source the generator reads.</summary>
    public static bool IsCudaSource(string path) =>
        path.EndsWith(".cu", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".cuh", StringComparison.OrdinalIgnoreCase);

    public static CudaFileModel Parse(string filePath, SourceText? text, CancellationToken cancellationToken)
    {
        if (text is null)
        {
            return new CudaFileModel(
                filePath, EquatableArray<KernelDeclaration>.Empty, EquatableArray<StructDeclaration>.Empty, EquatableArray<EntryMacro>.Empty,
                EquatableArray<MacroInvocation>.Empty, EquatableArray<DiagnosticInfo>.Empty);
        }

        var directives = new List<(int Start, int End)>();
        var context = new ParseContext(filePath, text, CudaTokenizer.Tokenize(text.ToString(), cancellationToken, directives));
        ImmutableArray<KernelDeclaration> kernels = KernelsIn(context, cancellationToken);
        FileScopes scopes = FileScopes.Of(context);
        return new CudaFileModel(
            filePath,
            kernels.ToEquatableArray(),
            StructParser.Find(context, scopes).ToEquatableArray(),
            MacroReader.Read(filePath, text, directives, cancellationToken).ToEquatableArray(),
            MacroInvocationFinder.Find(context, scopes).ToEquatableArray(),
            context.Diagnostics.ToEquatableArray());
    }

    /// <summary>The <c>extern "C" __global__</c> kernels in <paramref name="context"/>'s tokens (a file's, or an expansion's).</summary>
    public static ImmutableArray<KernelDeclaration> KernelsIn(ParseContext context, CancellationToken cancellationToken)
    {
        ImmutableArray<KernelDeclaration>.Builder kernels = ImmutableArray.CreateBuilder<KernelDeclaration>();
        foreach ((int start, int globalToken) in KernelSiteFinder.Find(context))
        {
            cancellationToken.ThrowIfCancellationRequested();
            KernelDeclaration? kernel = KernelDeclarationParser.Parse(context, start, globalToken);
            if (kernel is not null)
            {
                kernels.Add(kernel);
            }
        }

        return kernels.ToImmutable();
    }
}
