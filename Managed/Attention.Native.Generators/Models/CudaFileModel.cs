namespace Attention.Native.Generators.Models;

/// <summary>
/// Everything one <c>.cu</c> or <c>.cuh</c> file contributes: the kernels declared in it as written, its structs, its
/// entry macros and the invocations that may use them, and the problems found in it.
/// </summary>
internal sealed record CudaFileModel(
    string FilePath,
    EquatableArray<KernelDeclaration> Kernels,
    EquatableArray<StructDeclaration> Structs,
    EquatableArray<EntryMacro> Macros,
    EquatableArray<MacroInvocation> Invocations,
    EquatableArray<DiagnosticInfo> Diagnostics);
