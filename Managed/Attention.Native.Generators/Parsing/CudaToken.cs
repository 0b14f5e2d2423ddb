namespace Attention.Native.Generators.Parsing;

/// <summary>A token of a <c>.cu</c> or <c>.cuh</c> file; comments and preprocessor lines never become tokens.</summary>
/// <param name="Kind">What the token is.</param>
/// <param name="Text">The token's characters (for a token made by macro expansion, the pasted text).</param>
/// <param name="Start">Where it starts in the file (a token made by macro expansion: where the invocation starts).</param>
/// <param name="End">Where it ends (a token made by macro expansion: where the invocation ends).</param>
internal readonly record struct CudaToken(CudaTokenKind Kind, string Text, int Start, int End)
{
    public bool Is(string text) => string.Equals(Text, text, System.StringComparison.Ordinal);

    public bool IsIdentifier(string text) => Kind == CudaTokenKind.Identifier && Is(text);

    public bool IsPunctuation(string text) => Kind == CudaTokenKind.Punctuation && Is(text);
}
