using Microsoft.CodeAnalysis;

namespace Attention.Native.Generators;

/// <summary>
/// The generator's diagnostics. ATTN001–ATTN005 are errors: a kernel that cannot be launched safely gets no launcher.
/// ATTN006 is a warning: the kernels keep their own launchers and lose only the generic one.
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "Attention.Native.Kernels";

    /// <summary>ATTN001: a parameter type outside the table in <c>Native/README.md</c>.</summary>
    public static readonly DiagnosticDescriptor UnsupportedParameterType = new(
        id: "ATTN001",
        title: "Unsupported CUDA kernel parameter type",
        messageFormat: "Parameter '{1}' of kernel '{0}' has type '{2}', which has no launcher type; kernel parameters must be "
            + "float*, __half*, __nv_bfloat16*, unsigned char*, bool* or int* (optionally const or __restrict__), "
            + "or int, unsigned int, long long, unsigned long long, float or double (see Native/README.md)",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    /// <summary>ATTN002: an <c>extern "C" __global__</c> declaration the generator cannot read.</summary>
    public static readonly DiagnosticDescriptor MalformedDeclaration = new(
        id: "ATTN002",
        title: "Malformed extern \"C\" __global__ declaration",
        messageFormat: "Cannot read this extern \"C\" __global__ declaration: {0}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    /// <summary>ATTN003: two declarations of one entry point (its name is its identity in the PTX module).</summary>
    public static readonly DiagnosticDescriptor DuplicateKernel = new(
        id: "ATTN003",
        title: "Duplicate CUDA kernel name",
        messageFormat: "Kernel '{0}' is already declared at {1}; extern \"C\" kernel names must be unique across Native/*.cu",
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

    /// <summary>ATTN006: kernels with one stem and dtype suffixes whose signatures differ beyond their element types.</summary>
    public static readonly DiagnosticDescriptor FamilyMismatch = new(
        id: "ATTN006",
        title: "CUDA kernels with dtype suffixes do not form a family",
        messageFormat: "Kernel '{0}' does not fit the '{1}' dtype family: {2}. A family's kernels may differ only in pointers to "
            + "their own element type (float*, __half*, __nv_bfloat16*), so there is no generic launcher NativeKernels.{3}<T>; "
            + "each kernel keeps its own launcher.",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true);
}
