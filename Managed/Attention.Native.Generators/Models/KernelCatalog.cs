namespace Attention.Native.Generators.Models;

/// <summary>The kernels of all files, ordered by name and free of duplicates, their dtype families, and the cross-file diagnostics.</summary>
internal sealed record KernelCatalog(EquatableArray<KernelModel> Kernels, EquatableArray<KernelFamily> Families, EquatableArray<DiagnosticInfo> Diagnostics);
