namespace Attention.Native.Generators.Models;

/// <summary>
/// The kernels of all files, ordered by name and free of duplicates, each with a usable params struct; their dtype
/// families; the params structs they take; and the cross-file diagnostics.
/// </summary>
internal sealed record KernelCatalog(
    EquatableArray<KernelModel> Kernels,
    EquatableArray<KernelFamily> Families,
    EquatableArray<ParamsStruct> Structs,
    EquatableArray<DiagnosticInfo> Diagnostics);
