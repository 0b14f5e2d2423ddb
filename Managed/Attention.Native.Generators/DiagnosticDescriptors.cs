using Microsoft.CodeAnalysis;

namespace Attention.Native.Generators;

/// <summary>
/// The generator's diagnostics. ATTN001–ATTN005 and ATTN007–ATTN009 are errors: a kernel that cannot be launched
/// safely gets no name and no launch, a struct that C# cannot mirror no C# struct. ATTN006 is a warning: the kernels
/// keep their names and lose only the generic lookup.
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "Attention.Native.Kernels";

    /// <summary>ATTN001: a params struct field type outside the table in <c>Native/README.md</c>.</summary>
    public static readonly DiagnosticDescriptor UnsupportedFieldType = new(
        id: "ATTN001",
        title: "Unsupported params struct field type",
        messageFormat: "Field '{1}' of params struct '{0}' has type '{2}', which has no C# type; fields must be pointers to float, "
            + "__half, __nv_bfloat16, unsigned char, bool, int or the struct's type parameter (optionally const or __restrict__), "
            + "or int, unsigned int, long long, unsigned long long, float or double (see Native/README.md)",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    /// <summary>ATTN002: a kernel, struct or macro invocation the generator cannot read.</summary>
    public static readonly DiagnosticDescriptor MalformedDeclaration = new(
        id: "ATTN002",
        title: "Malformed CUDA declaration",
        messageFormat: "Cannot read this declaration: {0}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    /// <summary>ATTN003: two definitions of one name the generator looks up across files (a kernel, a params struct, an entry macro).</summary>
    public static readonly DiagnosticDescriptor DuplicateName = new(
        id: "ATTN003",
        title: "Duplicate CUDA name",
        messageFormat: "{0} '{1}' is already {2} at {3}; {4}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    /// <summary>ATTN004: a kernel whose return type is not <c>void</c>.</summary>
    public static readonly DiagnosticDescriptor NonVoidReturn = new(
        id: "ATTN004",
        title: "CUDA kernel returns a value",
        messageFormat: "Kernel '{0}' returns '{1}'; a __global__ function must return void",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    /// <summary>ATTN005: two CUDA names that become the same C# name.</summary>
    public static readonly DiagnosticDescriptor NameCollision = new(
        id: "ATTN005",
        title: "CUDA names collide in C#",
        messageFormat: "{0} becomes the C# name '{1}', which {2}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    /// <summary>ATTN006: kernels with one stem and dtype suffixes that do not take one struct with their own element types.</summary>
    public static readonly DiagnosticDescriptor FamilyMismatch = new(
        id: "ATTN006",
        title: "CUDA kernels with dtype suffixes do not form a family",
        messageFormat: "Kernel '{0}' does not fit the '{1}' dtype family: {2}. A family's kernels take one params struct, each with "
            + "its own element type (float, __half, __nv_bfloat16) where the struct is a template, so there is no "
            + "KernelNames.{3}Name<T>(); each kernel keeps its own name.",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true);

    /// <summary>ATTN007: a kernel whose parameter list is not one params struct by value.</summary>
    public static readonly DiagnosticDescriptor NotOneParamsStruct = new(
        id: "ATTN007",
        title: "CUDA kernel does not take one params struct",
        messageFormat: "Kernel '{0}' takes {1}; an entry point takes exactly one parameter, a params struct by value "
            + "('const __grid_constant__ Params params'), which one C# struct mirrors (see Native/README.md)",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    /// <summary>ATTN008: a kernel's params struct that no file defines, or instantiated with something that is no element type.</summary>
    public static readonly DiagnosticDescriptor UnknownParamsStruct = new(
        id: "ATTN008",
        title: "Unknown params struct",
        messageFormat: "Kernel '{0}' takes '{1}', but {2}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    /// <summary>ATTN009: a params struct that is not a plain C struct of data members.</summary>
    public static readonly DiagnosticDescriptor UnsupportedStructShape = new(
        id: "ATTN009",
        title: "Params struct is not plain data",
        messageFormat: "Params struct '{0}' {1}; a params struct holds data members only, one C# field each (see Native/README.md)",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);
}
