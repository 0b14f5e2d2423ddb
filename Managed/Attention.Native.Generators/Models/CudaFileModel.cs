namespace Attention.Native.Generators.Models;

/// <summary>Everything one <c>.cu</c> file contributes: its well-formed kernels and the problems found in it.</summary>
internal sealed record CudaFileModel(string FilePath, EquatableArray<KernelDeclaration> Kernels, EquatableArray<DiagnosticInfo> Diagnostics);
