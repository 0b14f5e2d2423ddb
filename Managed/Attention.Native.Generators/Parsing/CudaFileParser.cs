using System;
using System.Collections.Immutable;
using System.Threading;
using Attention.Native.Generators.Models;
using Microsoft.CodeAnalysis.Text;

namespace Attention.Native.Generators.Parsing;

/// <summary>Turns one <c>.cu</c> file into the kernels it declares and the diagnostics it deserves.</summary>
internal static class CudaFileParser
{
    /// <summary>Whether an additional file is CUDA source the generator reads.</summary>
    public static bool IsCudaSource(string path) => path.EndsWith(".cu", StringComparison.OrdinalIgnoreCase);

    public static CudaFileModel Parse(string filePath, SourceText? text, CancellationToken cancellationToken)
    {
        if (text is null)
        {
            return new CudaFileModel(filePath, EquatableArray<KernelDeclaration>.Empty, EquatableArray<DiagnosticInfo>.Empty);
        }

        var context = new ParseContext(filePath, text, CudaTokenizer.Tokenize(text.ToString(), cancellationToken));
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

        return new CudaFileModel(filePath, kernels.ToEquatableArray(), context.Diagnostics.ToEquatableArray());
    }
}
