namespace Attention.Native.Generators.Models;

/// <summary>A well-formed kernel as found in one file, with where its name stands (for duplicate diagnostics).</summary>
internal sealed record KernelDeclaration(KernelModel Kernel, SourceLocation NameLocation);
