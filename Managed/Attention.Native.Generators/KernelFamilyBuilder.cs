using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Attention.Native.Generators.Emit;
using Attention.Native.Generators.Models;
using Attention.Native.Generators.Parsing;

namespace Attention.Native.Generators;

/// <summary>
/// Finds the dtype families among the catalog's kernels: two or more kernels named <c>&lt;stem&gt;_f32</c>,
/// <c>_f16</c>, <c>_bf16</c>. Each member is compared, parameter by parameter, with the first (f32, else f16): a
/// parameter has the same C# name in all, and either one C# type in all or a pointer to each member's own element
/// type in all (the element parameters). A member that breaks this is ATTN006 and its stem gets no family; a family
/// whose C# name a kernel already has is ATTN005. One kernel alone is no family: which of its float pointers take
/// the element type is only known by comparison.
/// </summary>
internal static class KernelFamilyBuilder
{
    private const string GenericPointer = "global::Attention.Native.Cuda.Interop.DevicePointer<T>";

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
        (DType referenceType, KernelDeclaration reference) = members[0];
        bool?[] isElement = new bool?[reference.Kernel.Parameters.Length];
        KernelModel? first = null;
        bool fits = true;
        for (int m = 1; m < members.Count; m++)
        {
            (DType dtype, KernelDeclaration member) = members[m];
            string? mismatch = Mismatch(reference.Kernel, referenceType, member.Kernel, dtype, isElement, first);
            if (mismatch is not null)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.FamilyMismatch, member.NameLocation, member.Kernel.Name, stem, mismatch, methodName));
                fits = false;
            }
            else
            {
                first ??= member.Kernel;
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
                reference.NameLocation,
                "The '" + stem + "' dtype family",
                methodName,
                "kernel '" + kernel.Kernel.Name + "' at " + kernel.NameLocation.Describe() + " already becomes; rename one of them"));
            return null;
        }

        EquatableArray<FamilyParameter> parameters = reference.Kernel.Parameters
            .Select((parameter, i) => isElement[i] == true
                ? new FamilyParameter(parameter with { CudaType = Generic(parameter.CudaType, referenceType), Type = GenericPointer }, true)
                : new FamilyParameter(parameter, false))
            .ToEquatableArray();
        EquatableArray<FamilyMember> familyMembers = members
            .Select(static m => new FamilyMember(m.DType, m.Declaration.Kernel.Name, m.Declaration.Kernel.MethodName))
            .ToEquatableArray();
        return new KernelFamily(stem, methodName, familyMembers, parameters);
    }

    /// <summary>
    /// Why <paramref name="member"/> does not fit <paramref name="reference"/>'s family, or null. The first member that
    /// fits (<paramref name="first"/>, null until one has) classifies the parameters into <paramref name="isElement"/>;
    /// later members must agree with it.
    /// </summary>
    private static string? Mismatch(KernelModel reference, DType referenceType, KernelModel member, DType dtype, bool?[] isElement, KernelModel? first)
    {
        if (member.Parameters.Length != reference.Parameters.Length)
        {
            return "it has " + member.Parameters.Length + " parameters and '" + reference.Name + "' has " + reference.Parameters.Length;
        }

        for (int i = 0; i < member.Parameters.Length; i++)
        {
            ParameterModel mine = member.Parameters[i];
            ParameterModel theirs = reference.Parameters[i];
            string which = "parameter " + (i + 1);
            if (mine.Name != theirs.Name)
            {
                return which + " is '" + mine.CudaName + "' here and '" + theirs.CudaName + "' in '" + reference.Name + "'";
            }

            which += " ('" + mine.CudaName + "') is '" + mine.CudaType + "' here";
            bool element = theirs.Type == referenceType.DevicePointer && mine.Type == dtype.DevicePointer;
            if (!element && mine.Type != theirs.Type)
            {
                return which + " and '" + theirs.CudaType + "' in '" + reference.Name + "': neither the same type nor each kernel's own element type";
            }

            if (first is not null && isElement[i] != element)
            {
                return which + ", '" + theirs.CudaType + "' in '" + reference.Name + "' and '" + first.Parameters[i].CudaType + "' in '"
                    + first.Name + "': a parameter points to each kernel's own element type in every member or has one type in all";
            }

            isElement[i] = element;
        }

        return null;
    }

    /// <summary>The CUDA type with <c>T</c> for the element type: <c>const float*</c> → <c>const T*</c>, for documentation.</summary>
    private static string Generic(string cudaType, DType dtype) =>
        CudaTypeMapper.Describe(CudaTokenizer.Tokenize(cudaType, CancellationToken.None)
            .Select(token => token.IsIdentifier(dtype.CudaType) ? token with { Text = "T" } : token)
            .ToList());
}
