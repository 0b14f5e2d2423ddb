using System.Collections.Immutable;
using Attention.Native.Generators.Models;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Attention.Native.Generators.Parsing;

/// <summary>One file being parsed: its tokens, and where the diagnostics found in it go.</summary>
internal sealed class ParseContext
{
    public ParseContext(string filePath, SourceText text, ImmutableArray<CudaToken> tokens)
    {
        FilePath = filePath;
        Text = text;
        Tokens = tokens;
    }

    public string FilePath { get; }

    public SourceText Text { get; }

    public ImmutableArray<CudaToken> Tokens { get; }

    public ImmutableArray<DiagnosticInfo>.Builder Diagnostics { get; } = ImmutableArray.CreateBuilder<DiagnosticInfo>();

    public bool IsToken(int index, string text) => index >= 0 && index < Tokens.Length && Tokens[index].Is(text);

    public SourceLocation Locate(CudaToken first, CudaToken last) => SourceLocation.Create(FilePath, Text, first.Start, last.End);

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
    /// The index of the bracket closing the one at <paramref name="open"/>, or -1 when the file, or the declaration
    /// (a <c>;</c>, <c>{</c> or <c>}</c>), ends first.
    /// </summary>
    public int FindClosing(int open, string openText, string closeText)
    {
        int depth = 0;
        for (int i = open; i < Tokens.Length; i++)
        {
            CudaToken token = Tokens[i];
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
            else if (token.Text is ";" or "{" or "}")
            {
                return -1;
            }
        }

        return -1;
    }
}
