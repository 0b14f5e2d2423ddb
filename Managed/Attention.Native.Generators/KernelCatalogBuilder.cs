using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Attention.Native.Generators.Models;

namespace Attention.Native.Generators;

/// <summary>
/// Merges the files' kernels: ordered by name (ordinal) whatever the order of the files, one launcher per entry point.
/// A prototype followed by its definition in one file is one kernel; any other repeated name is ATTN003, and two names
/// that become the same C# name are ATTN005. The first declaration (by file path, then position) wins. Then the dtype
/// families are found among the kernels (<see cref="KernelFamilyBuilder"/>).
/// </summary>
internal static class KernelCatalogBuilder
{
    public static KernelCatalog Build(ImmutableArray<CudaFileModel> files, CancellationToken cancellationToken)
    {
        var byName = new Dictionary<string, KernelDeclaration>(System.StringComparer.Ordinal);
        var byMethod = new Dictionary<string, KernelDeclaration>(System.StringComparer.Ordinal);
        ImmutableArray<DiagnosticInfo>.Builder diagnostics = ImmutableArray.CreateBuilder<DiagnosticInfo>();
        foreach (CudaFileModel file in files.OrderBy(static f => f.FilePath, System.StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (KernelDeclaration declaration in file.Kernels)
            {
                KernelModel kernel = declaration.Kernel;
                if (byName.TryGetValue(kernel.Name, out KernelDeclaration? first))
                {
                    bool prototypeAndDefinition = first.NameLocation.FilePath == declaration.NameLocation.FilePath && first.Kernel == kernel;
                    if (!prototypeAndDefinition)
                    {
                        diagnostics.Add(DiagnosticInfo.Create(
                            DiagnosticDescriptors.DuplicateKernel, declaration.NameLocation, kernel.Name, first.NameLocation.Describe()));
                    }
                }
                else if (byMethod.TryGetValue(kernel.MethodName, out KernelDeclaration? other))
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.NameCollision,
                        declaration.NameLocation,
                        "Kernel '" + kernel.Name + "'",
                        kernel.MethodName,
                        "kernel '" + other.Kernel.Name + "' at " + other.NameLocation.Describe() + " already becomes; rename one of them"));
                }
                else
                {
                    byName.Add(kernel.Name, declaration);
                    byMethod.Add(kernel.MethodName, declaration);
                }
            }
        }

        List<KernelDeclaration> ordered = [.. byName.Values.OrderBy(static d => d.Kernel.Name, System.StringComparer.Ordinal)];
        EquatableArray<KernelFamily> families = KernelFamilyBuilder.Build(ordered, diagnostics, cancellationToken);
        return new KernelCatalog(ordered.Select(static d => d.Kernel).ToEquatableArray(), families, diagnostics.ToEquatableArray());
    }
}
