namespace Attention.Native.Generators.Parsing;

/// <summary>The kinds of token the declaration parser distinguishes.</summary>
internal enum CudaTokenKind
{
    Identifier,
    Number,
    String,
    Character,
    Punctuation,
}
