namespace Attention.Native.Generators.Parsing;

/// <summary>A token of a <c>.cu</c> file; comments and preprocessor lines never become tokens.</summary>
/// <param name="Kind">What the token is.</param>
/// <param name="Text">The token's characters.</param>
/// <param name="Start">Its offset in the file.</param>
internal readonly record struct CudaToken(CudaTokenKind Kind, string Text, int Start)
{
    public int End => Start + Text.Length;

    public bool Is(string text) => string.Equals(Text, text, System.StringComparison.Ordinal);

    public bool IsIdentifier(string text) => Kind == CudaTokenKind.Identifier && Is(text);

    public bool IsPunctuation(string text) => Kind == CudaTokenKind.Punctuation && Is(text);
}
