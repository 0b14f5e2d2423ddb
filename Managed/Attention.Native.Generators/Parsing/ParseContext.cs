using System.Collections.Immutable;
using Attention.Native.Generators.Models;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Attention.Native.Generators.Parsing;

/// <summary>
/// Tokens being parsed and where the diagnostics found in them go: a file's tokens, located in that file, or the
/// tokens of a macro invocation's expansion, all located at the invocation.
/// </summary>
internal sealed class ParseContext
{
    private readonly SourceLocation? expansion;

    /// <summary>A file's tokens.</summary>
    public ParseContext(string filePath, SourceText text, ImmutableArray<CudaToken> tokens)
    {
        FilePath = filePath;
        Text = text;
        Tokens = tokens;
    }

    /// <summary>The tokens a macro invocation expands to, every one of them reported at <paramref name="invocation"/>.</summary>
    public ParseContext(SourceLocation invocation, ImmutableArray<CudaToken> tokens)
    {
        FilePath = invocation.FilePath;
        Tokens = tokens;
        expansion = invocation;
    }

    public string FilePath { get; }

    /// <summary>The file's text; null for an expansion.</summary>
    public SourceText? Text { get; }

    public ImmutableArray<CudaToken> Tokens { get; }

    public ImmutableArray<DiagnosticInfo>.Builder Diagnostics { get; } = ImmutableArray.CreateBuilder<DiagnosticInfo>();

    public bool IsToken(int index, string text) => index >= 0 && index < Tokens.Length && Tokens[index].Is(text);

    public SourceLocation Locate(CudaToken first, CudaToken last) =>
        expansion ?? SourceLocation.Create(FilePath, Text!, first.Start, last.End);

    public SourceLocation Locate(CudaToken token) => Locate(token, token);

    public void Report(DiagnosticDescriptor descriptor, SourceLocation location, params string[] arguments) =>
        Diagnostics.Add(DiagnosticInfo.Create(descriptor, location, arguments));

    /// <summary>Reports ATTN002 at <paramref name="at"/>; returns null, for the callers that give up there.</summary>
    public T? Malformed<T>(CudaToken at, string reason)
        where T : class
    {
        Report(DiagnosticDescriptors.MalformedDeclaration, Locate(at), reason);
        return null;
    }

    /// <summary>
    /// The index of the bracket closing the one at <paramref name="open"/>, or -1 when the tokens, or the declaration
    /// (a <c>;</c>, <c>{</c> or <c>}</c>), end first.
    /// </summary>
    public int FindClosing(int open, string openText, string closeText) => FindClosing(Tokens, open, openText, closeText, stopAtDeclarationEnd: true);

    /// <summary>
    /// The index of the bracket closing the one at <paramref name="open"/> in <paramref name="tokens"/>, or -1 when the
    /// tokens end first (or, with <paramref name="stopAtDeclarationEnd"/>, a <c>;</c>, <c>{</c> or <c>}</c> outside
    /// the brackets comes first).
    /// </summary>
    public static int FindClosing(ImmutableArray<CudaToken> tokens, int open, string openText, string closeText, bool stopAtDeclarationEnd)
    {
        int depth = 0;
        for (int i = open; i < tokens.Length; i++)
        {
            CudaToken token = tokens[i];
            if (token.Kind != CudaTokenKind.Punctuation)
            {
                continue;
            }

            if (token.Is(openText))
            {
                depth++;
            }
            else if (token.Is(closeText) && --depth == 0)
            {
                return i;
            }
            else if (stopAtDeclarationEnd && token.Text is ";" or "{" or "}")
            {
                return -1;
            }
        }

        return -1;
    }
}
