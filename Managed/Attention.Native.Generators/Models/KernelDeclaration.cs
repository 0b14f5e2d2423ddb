namespace Attention.Native.Generators.Models;

/// <summary>
/// A well-formed kernel as found in one file (or in a macro invocation), with where its name and its parameter stand
/// (for the diagnostics that name them).
/// </summary>
internal sealed record KernelDeclaration(KernelModel Kernel, SourceLocation NameLocation, SourceLocation ParameterLocation);
