namespace Attention.Native.Generators.Models;

/// <summary>The kernels of all files, ordered by name and free of duplicates, with the cross-file diagnostics.</summary>
internal sealed record KernelCatalog(EquatableArray<KernelModel> Kernels, EquatableArray<DiagnosticInfo> Diagnostics);
