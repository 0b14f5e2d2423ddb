using System.Collections.Generic;
using System.Linq;
using Attention.Native.Generators.Models;

namespace Attention.Native.Generators.Parsing;

/// <summary>
/// Reads a kernel's parameter list, which must be one params struct passed by value:
/// <c>const __grid_constant__ attention::AttentionParams&lt;__half&gt; params</c> (qualifiers <c>const</c> and
/// <c>__grid_constant__</c>, an optionally namespace-qualified struct name, at most one template argument, a name).
/// Anything else is ATTN007: a launch hands the kernel one C# struct, so there is nothing else it could pass.
/// </summary>
internal static class ParamsParameterParser
{
    private static readonly HashSet<string> Qualifiers = new(System.StringComparer.Ordinal) { "const", "__grid_constant__", "struct" };

    /// <summary>The parameter between the parentheses at <paramref name="open"/> and <paramref name="close"/>, or null after reporting why not.</summary>
    public static (ParamsReference Reference, SourceLocation Location)? Parse(ParseContext context, string kernel, int open, int close)
    {
        var tokens = context.Tokens;
        List<(int Start, int End)> pieces = Split(context, open, close);
        if (pieces.Count == 1 && (pieces[0].End == pieces[0].Start
            || (pieces[0].End == pieces[0].Start + 1 && tokens[pieces[0].Start].IsIdentifier("void"))))
        {
            context.Report(DiagnosticDescriptors.NotOneParamsStruct, context.Locate(tokens[open], tokens[close]), kernel, "no parameters");
            return null;
        }

        if (pieces.Count > 1)
        {
            context.Report(
                DiagnosticDescriptors.NotOneParamsStruct, context.Locate(tokens[open + 1], tokens[close - 1]), kernel, pieces.Count + " parameters");
            return null;
        }

        (int start, int end) = pieces[0];
        SourceLocation location = context.Locate(tokens[start], tokens[end - 1]);
        string written = Describe(context, start, end);
        string? reason = Read(context, start, end, out ParamsReference? reference);
        if (reason is not null)
        {
            context.Report(DiagnosticDescriptors.NotOneParamsStruct, location, kernel, "'" + written + "' (" + reason + ")");
            return null;
        }

        return (reference!, location);
    }

    /// <summary>Null when the tokens are a params struct by value (then <paramref name="reference"/> is set), else why not.</summary>
    private static string? Read(ParseContext context, int start, int end, out ParamsReference? reference)
    {
        var tokens = context.Tokens;
        reference = null;
        int i = start;
        while (i < end && tokens[i].Kind == CudaTokenKind.Identifier && Qualifiers.Contains(tokens[i].Text))
        {
            i++;
        }

        // A qualified name: a::b::Name.
        int nameIndex = -1;
        while (i < end && tokens[i].Kind == CudaTokenKind.Identifier && !CudaTypeMapper.IsTypeWord(tokens[i].Text))
        {
            nameIndex = i++;
            if (i + 1 < end && tokens[i].IsPunctuation(":") && tokens[i + 1].IsPunctuation(":"))
            {
                i += 2;
            }
            else
            {
                break;
            }
        }

        if (nameIndex < 0)
        {
            return "a scalar or pointer, not a struct";
        }

        string? typeArgument = null;
        if (i < end && tokens[i].IsPunctuation("<"))
        {
            int closeAngle = i + 1;
            int depth = 1;
            while (closeAngle < end && depth > 0)
            {
                depth += tokens[closeAngle].IsPunctuation("<") ? 1 : tokens[closeAngle].IsPunctuation(">") ? -1 : 0;
                closeAngle += depth > 0 ? 1 : 0;
            }

            if (closeAngle >= end)
            {
                return "the template argument list is not closed";
            }

            typeArgument = Describe(context, i + 1, closeAngle);
            i = closeAngle + 1;
        }

        while (i < end && tokens[i].Kind == CudaTokenKind.Identifier && Qualifiers.Contains(tokens[i].Text))
        {
            i++;
        }

        if (i < end && tokens[i].Kind == CudaTokenKind.Punctuation && tokens[i].Text is "*" or "&")
        {
            return tokens[i].Text == "*" ? "a pointer: pass the struct by value" : "a reference: pass the struct by value";
        }

        if (i != end - 1 || tokens[i].Kind != CudaTokenKind.Identifier || CudaTypeMapper.IsTypeWord(tokens[i].Text))
        {
            return i >= end ? "no parameter name" : "expected only the parameter's name after the struct";
        }

        string type = Describe(context, start, end - 1);
        reference = new ParamsReference(type, tokens[nameIndex].Text, typeArgument);
        return null;
    }

    /// <summary>Token ranges [Start, End) between top-level commas.</summary>
    private static List<(int Start, int End)> Split(ParseContext context, int open, int close)
    {
        var pieces = new List<(int, int)>();
        int depth = 0;
        int start = open + 1;
        for (int i = open + 1; i < close; i++)
        {
            CudaToken token = context.Tokens[i];
            if (token.Kind != CudaTokenKind.Punctuation)
            {
                continue;
            }

            if (token.Text is "(" or "[" or "<")
            {
                depth++;
            }
            else if (token.Text is ")" or "]" or ">")
            {
                depth--;
            }
            else if (token.Is(",") && depth == 0)
            {
                pieces.Add((start, i));
                start = i + 1;
            }
        }

        pieces.Add((start, close));
        return pieces;
    }

    private static string Describe(ParseContext context, int start, int end) =>
        CudaTypeMapper.Describe([.. Enumerable.Range(start, end - start).Select(i => context.Tokens[i])]);
}
