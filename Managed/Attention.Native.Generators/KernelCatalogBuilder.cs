using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Attention.Native.Generators.Models;
using Attention.Native.Generators.Parsing;

namespace Attention.Native.Generators;

/// <summary>
/// Merges the files: expands every entry-macro invocation (the macro may be defined in another file), merges the
/// kernels — ordered by name whatever the order of the files, a prototype followed by its definition in one file
/// being one kernel, any other repeated name ATTN003, two names that become one C# name ATTN005, the first
/// declaration (by file path, then position) winning — and resolves each kernel's params struct among the structs
/// of all files (ATTN008 when there is none to take, the struct's own problems when it cannot be mirrored). Then the
/// dtype families are found among the kernels (<see cref="KernelFamilyBuilder"/>) and each params struct in use is
/// listed with the kernels that take it.
/// </summary>
internal static class KernelCatalogBuilder
{
    public static KernelCatalog Build(ImmutableArray<CudaFileModel> files, CancellationToken cancellationToken)
    {
        List<CudaFileModel> ordered = [.. files.OrderBy(static f => f.FilePath, System.StringComparer.Ordinal)];
        ImmutableArray<DiagnosticInfo>.Builder diagnostics = ImmutableArray.CreateBuilder<DiagnosticInfo>();
        Dictionary<string, EntryMacro> macros = Macros(ordered, diagnostics);

        var byName = new Dictionary<string, KernelDeclaration>(System.StringComparer.Ordinal);
        var byMethod = new Dictionary<string, KernelDeclaration>(System.StringComparer.Ordinal);
        foreach (CudaFileModel file in ordered)
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (KernelDeclaration declaration in Declarations(file, macros, diagnostics, cancellationToken))
            {
                Add(declaration, byName, byMethod, diagnostics);
            }
        }

        var structs = new Dictionary<string, List<StructDeclaration>>(System.StringComparer.Ordinal);
        foreach (StructDeclaration declaration in ordered.SelectMany(static f => f.Structs))
        {
            if (!structs.TryGetValue(declaration.Struct.CudaName, out List<StructDeclaration>? definitions))
            {
                structs.Add(declaration.Struct.CudaName, definitions = []);
            }

            definitions.Add(declaration);
        }

        var reported = new HashSet<string>(System.StringComparer.Ordinal);
        var structNames = new Dictionary<string, StructModel>(System.StringComparer.Ordinal);
        List<(KernelDeclaration Declaration, StructModel Struct)> resolved = [];
        foreach (KernelDeclaration declaration in byName.Values.OrderBy(static d => d.Kernel.Name, System.StringComparer.Ordinal))
        {
            StructModel? model = Resolve(declaration, structs, structNames, reported, diagnostics);
            if (model is not null)
            {
                resolved.Add((declaration, model));
            }
        }

        List<KernelDeclaration> kernels = [.. resolved.Select(static r => r.Declaration)];
        EquatableArray<KernelFamily> families = KernelFamilyBuilder.Build(kernels, diagnostics, cancellationToken);
        EquatableArray<ParamsStruct> used = resolved
            .GroupBy(static r => r.Struct.CudaName, System.StringComparer.Ordinal)
            .OrderBy(static g => g.Key, System.StringComparer.Ordinal)
            .Select(static g => new ParamsStruct(
                g.First().Struct,
                g.GroupBy(static r => r.Declaration.Kernel.Parameter.ElementType)
                    .OrderBy(static u => u.Key is null ? -1 : DType.All.IndexOf(u.Key))
                    .Select(static u => new ParamsUse(u.Key, u.Select(static r => r.Declaration.Kernel.Name).ToEquatableArray()))
                    .ToEquatableArray()))
            .ToEquatableArray();
        return new KernelCatalog(kernels.Select(static d => d.Kernel).ToEquatableArray(), families, used, diagnostics.ToEquatableArray());
    }

    /// <summary>Every file's entry macros by name; a name defined again is ATTN003 and the first definition stays.</summary>
    private static Dictionary<string, EntryMacro> Macros(List<CudaFileModel> files, ImmutableArray<DiagnosticInfo>.Builder diagnostics)
    {
        var macros = new Dictionary<string, EntryMacro>(System.StringComparer.Ordinal);
        foreach (EntryMacro macro in files.SelectMany(static f => f.Macros))
        {
            if (macros.TryGetValue(macro.Name, out EntryMacro? first))
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.DuplicateName, macro.Location, "Macro", macro.Name, "defined", first.Location.Describe(),
                    "a macro that declares kernels is defined once across Native/"));
            }
            else
            {
                macros.Add(macro.Name, macro);
            }
        }

        return macros;
    }

    /// <summary>A file's kernels, as written and from the expansions of its entry-macro invocations, in file order.</summary>
    private static IEnumerable<KernelDeclaration> Declarations(
        CudaFileModel file, Dictionary<string, EntryMacro> macros, ImmutableArray<DiagnosticInfo>.Builder diagnostics, CancellationToken cancellationToken)
    {
        List<KernelDeclaration> declarations = [.. file.Kernels];
        foreach (MacroInvocation invocation in file.Invocations)
        {
            if (!macros.TryGetValue(invocation.Name, out EntryMacro? macro))
            {
                continue;
            }

            ImmutableArray<CudaToken>? tokens = MacroExpander.Expand(macro, invocation, out string? error);
            if (tokens is null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MalformedDeclaration, invocation.Location, error!));
                continue;
            }

            var context = new ParseContext(invocation.Location, tokens.Value);
            declarations.AddRange(CudaFileParser.KernelsIn(context, cancellationToken));
            diagnostics.AddRange(context.Diagnostics);
        }

        return declarations.OrderBy(static d => d.NameLocation.Span.Start);
    }

    private static void Add(
        KernelDeclaration declaration,
        Dictionary<string, KernelDeclaration> byName,
        Dictionary<string, KernelDeclaration> byMethod,
        ImmutableArray<DiagnosticInfo>.Builder diagnostics)
    {
        KernelModel kernel = declaration.Kernel;
        if (byName.TryGetValue(kernel.Name, out KernelDeclaration? first))
        {
            bool prototypeAndDefinition = first.NameLocation.FilePath == declaration.NameLocation.FilePath && first.Kernel == kernel;
            if (!prototypeAndDefinition)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.DuplicateName, declaration.NameLocation, "Kernel", kernel.Name, "declared", first.NameLocation.Describe(),
                    "extern \"C\" kernel names must be unique across Native/"));
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

    /// <summary>
    /// The struct <paramref name="declaration"/> takes, or null after reporting why it cannot be launched (each
    /// struct's own problems once, however many kernels take it).
    /// </summary>
    private static StructModel? Resolve(
        KernelDeclaration declaration,
        Dictionary<string, List<StructDeclaration>> structs,
        Dictionary<string, StructModel> structNames,
        HashSet<string> reported,
        ImmutableArray<DiagnosticInfo>.Builder diagnostics)
    {
        KernelModel kernel = declaration.Kernel;
        ParamsReference parameter = kernel.Parameter;
        void Unknown(string why) => diagnostics.Add(DiagnosticInfo.Create(
            DiagnosticDescriptors.UnknownParamsStruct, declaration.ParameterLocation, kernel.Name, parameter.CudaType, why));

        if (!structs.TryGetValue(parameter.StructName, out List<StructDeclaration>? definitions))
        {
            Unknown("no Native/*.cu or *.cuh file defines struct '" + parameter.StructName + "' at namespace scope");
            return null;
        }

        StructDeclaration definition = definitions[0];
        StructModel model = definition.Struct;
        bool firstUse = reported.Add(model.CudaName);
        if (definitions.Count > 1)
        {
            if (firstUse)
            {
                foreach (StructDeclaration again in definitions.Skip(1))
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.DuplicateName, again.NameLocation, "Struct", model.CudaName, "defined", definition.NameLocation.Describe(),
                        "a params struct is defined once across Native/"));
                }
            }

            return null;
        }

        if (definition.Problems.Length > 0)
        {
            if (firstUse)
            {
                diagnostics.AddRange(definition.Problems);
            }

            return null;
        }

        if (model.TypeParameter is not null && parameter.TypeArgument is null)
        {
            Unknown("'" + model.CudaName + "' is a template: name the element type (" + model.CudaName + "<float>, <__half> or <__nv_bfloat16>)");
            return null;
        }

        if (model.TypeParameter is null && parameter.TypeArgument is not null)
        {
            Unknown("'" + model.CudaName + "' is not a template");
            return null;
        }

        if (parameter.TypeArgument is not null && parameter.ElementType is null)
        {
            Unknown("'" + parameter.TypeArgument + "' is not an element type (float, __half or __nv_bfloat16)");
            return null;
        }

        if (structNames.TryGetValue(model.Name, out StructModel? other) && other.CudaName != model.CudaName)
        {
            if (firstUse)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.NameCollision, definition.NameLocation, "Struct '" + model.CudaName + "'", model.Name,
                    "struct '" + other.CudaName + "' already becomes; rename one of them"));
            }

            return null;
        }

        structNames[model.Name] = model;
        return model;
    }
}
