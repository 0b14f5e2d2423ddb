namespace Attention.Native.Generators.Models;

/// <summary>
/// A struct found in one file. Every struct at namespace scope is read, but only the ones a kernel takes are checked:
/// <paramref name="Problems"/> (ATTN001, ATTN005, ATTN009) are reported when a kernel refers to the struct, and a
/// struct with problems gets no C# struct.
/// </summary>
/// <param name="Struct">What was read; its fields are those that could be typed.</param>
/// <param name="NameLocation">Where its name stands.</param>
/// <param name="Problems">Why it cannot be a params struct; empty when it can.</param>
internal sealed record StructDeclaration(StructModel Struct, SourceLocation NameLocation, EquatableArray<DiagnosticInfo> Problems);
