using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Attention.Native.Generators.Emit;
using Attention.Native.Generators.Models;

namespace Attention.Native.Generators;

/// <summary>
/// Finds the dtype families among the catalog's kernels: two or more kernels named <c>&lt;stem&gt;_f32</c>,
/// <c>_f16</c>, <c>_bf16</c> that take one params struct — each with its own element type where the struct is a
/// template (<c>attention_simt_f16</c> takes <c>AttentionParams&lt;__half&gt;</c>). A member that breaks this is
/// ATTN006 and its stem gets no family; a family whose C# name a kernel already has is ATTN005.
/// </summary>
internal static class KernelFamilyBuilder
{
    /// <param name="kernels">The catalog's kernels with where their names stand, ordered by name.</param>
    /// <param name="diagnostics">Where ATTN005 and ATTN006 go.</param>
    /// <param name="cancellationToken">Cancels the build.</param>
    public static EquatableArray<KernelFamily> Build(
        IReadOnlyList<KernelDeclaration> kernels, ImmutableArray<DiagnosticInfo>.Builder diagnostics, CancellationToken cancellationToken)
    {
        var byMethod = new Dictionary<string, KernelDeclaration>(System.StringComparer.Ordinal);
        var byStem = new SortedDictionary<string, List<(DType DType, KernelDeclaration Declaration)>>(System.StringComparer.Ordinal);
        foreach (KernelDeclaration declaration in kernels)
        {
            byMethod[declaration.Kernel.MethodName] = declaration;
            DType? dtype = DType.Split(declaration.Kernel.Name, out string stem);
            if (dtype is null)
            {
                continue;
            }

            if (!byStem.TryGetValue(stem, out List<(DType, KernelDeclaration)>? members))
            {
                byStem.Add(stem, members = []);
            }

            members.Add((dtype, declaration));
        }

        ImmutableArray<KernelFamily>.Builder families = ImmutableArray.CreateBuilder<KernelFamily>();
        foreach (KeyValuePair<string, List<(DType DType, KernelDeclaration Declaration)>> group in byStem)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string methodName = Naming.ToPascalCase(group.Key);
            if (group.Value.Count < 2 || methodName.Length == 0)
            {
                continue;
            }

            var members = group.Value.OrderBy(static m => DType.All.IndexOf(m.DType)).ToList();
            KernelFamily? family = Create(group.Key, methodName, members, byMethod, diagnostics);
            if (family is not null)
            {
                families.Add(family);
            }
        }

        return families.ToEquatableArray();
    }

    private static KernelFamily? Create(
        string stem,
        string methodName,
        List<(DType DType, KernelDeclaration Declaration)> members,
        Dictionary<string, KernelDeclaration> byMethod,
        ImmutableArray<DiagnosticInfo>.Builder diagnostics)
    {
        KernelModel reference = members[0].Declaration.Kernel;
        bool fits = true;
        foreach ((DType dtype, KernelDeclaration member) in members)
        {
            string? mismatch = Mismatch(reference, member.Kernel, dtype);
            if (mismatch is not null)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.FamilyMismatch, member.NameLocation, member.Kernel.Name, stem, mismatch, methodName));
                fits = false;
            }
        }

        if (!fits)
        {
            return null;
        }

        if (byMethod.TryGetValue(methodName, out KernelDeclaration? kernel))
        {
            diagnostics.Add(DiagnosticInfo.Create(
                DiagnosticDescriptors.NameCollision,
                members[0].Declaration.NameLocation,
                "The '" + stem + "' dtype family",
                methodName,
                "kernel '" + kernel.Kernel.Name + "' at " + kernel.NameLocation.Describe() + " already becomes; rename one of them"));
            return null;
        }

        return new KernelFamily(
            stem,
            methodName,
            members.Select(static m => new FamilyMember(m.DType, m.Declaration.Kernel.Name, m.Declaration.Kernel.MethodName)).ToEquatableArray());
    }

    /// <summary>Why <paramref name="member"/> (named for <paramref name="dtype"/>) does not fit <paramref name="reference"/>'s family, or null.</summary>
    private static string? Mismatch(KernelModel reference, KernelModel member, DType dtype)
    {
        ParamsReference mine = member.Parameter;
        if (mine.StructName != reference.Parameter.StructName)
        {
            return "it takes '" + mine.Describe() + "' and '" + reference.Name + "' takes '" + reference.Parameter.Describe() + "'";
        }

        if (mine.TypeArgument is not null && mine.ElementType != dtype)
        {
            return "it takes '" + mine.Describe() + "', not its own element type's '" + mine.StructName + "<" + dtype.CudaType + ">'";
        }

        return null;
    }
}
