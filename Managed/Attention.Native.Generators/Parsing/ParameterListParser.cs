using System.Collections.Generic;
using System.Collections.Immutable;
using Attention.Native.Generators.Emit;
using Attention.Native.Generators.Models;

namespace Attention.Native.Generators.Parsing;

/// <summary>
/// Reads a kernel's parameter list into launcher parameters, reporting every parameter it cannot type (ATTN001),
/// read (ATTN002) or name in C# (ATTN005) rather than stopping at the first.
/// </summary>
internal static class ParameterListParser
{
    /// <summary>The launcher's own parameters, which kernel parameters may not shadow.</summary>
    private static readonly HashSet<string> Reserved = new(System.StringComparer.Ordinal) { "function", "launch" };

    /// <summary>The parameters between the parentheses at <paramref name="open"/> and <paramref name="close"/>, or null.</summary>
    public static ImmutableArray<ParameterModel>? Parse(ParseContext context, string kernel, int open, int close)
    {
        List<(int Start, int End)> pieces = Split(context, open, close);
        if (pieces.Count == 1 && (pieces[0].End == pieces[0].Start
            || (pieces[0].End == pieces[0].Start + 1 && context.Tokens[pieces[0].Start].IsIdentifier("void"))))
        {
            return ImmutableArray<ParameterModel>.Empty;
        }

        ImmutableArray<ParameterModel>.Builder parameters = ImmutableArray.CreateBuilder<ParameterModel>(pieces.Count);
        var names = new HashSet<string>(System.StringComparer.Ordinal);
        bool failed = false;
        for (int p = 0; p < pieces.Count; p++)
        {
            ParameterModel? parameter = ParseOne(context, kernel, p + 1, pieces[p].Start, pieces[p].End, names);
            if (parameter is null)
            {
                failed = true;
            }
            else
            {
                parameters.Add(parameter);
            }
        }

        return failed ? null : parameters.MoveToImmutable();
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

    private static ParameterModel? ParseOne(ParseContext context, string kernel, int position, int start, int end, HashSet<string> names)
    {
        ImmutableArray<CudaToken> tokens = context.Tokens;
        string which = "parameter " + position + " of '" + kernel + "'";
        if (start == end)
        {
            // Point at the comma or parenthesis that closes the empty parameter.
            return context.Malformed<ParameterModel>(tokens[end], which + " is empty");
        }

        for (int i = start; i < end; i++)
        {
            if (tokens[i].IsPunctuation("="))
            {
                return context.Malformed<ParameterModel>(tokens[i], which + " has a default value, which a launcher cannot express");
            }

            if (tokens[i].IsPunctuation("."))
            {
                return context.Malformed<ParameterModel>(tokens[i], "variadic kernels ('...') cannot be launched with typed arguments");
            }
        }

        // A trailing array declarator (float x[4]) belongs to the type, not the name.
        int nameIndex = end - 1;
        while (nameIndex > start && tokens[nameIndex].IsPunctuation("]"))
        {
            nameIndex = MatchingOpenBracket(tokens, start, nameIndex) - 1;
        }

        if (nameIndex <= start || tokens[nameIndex].Kind != CudaTokenKind.Identifier || CudaTypeMapper.IsTypeWord(tokens[nameIndex].Text))
        {
            return context.Malformed<ParameterModel>(tokens[start], which + " ('" + Describe(tokens, start, end) + "') has no name");
        }

        CudaToken name = tokens[nameIndex];

        var typeTokens = new List<CudaToken>(end - start);
        for (int i = start; i < end; i++)
        {
            if (i != nameIndex)
            {
                typeTokens.Add(tokens[i]);
            }
        }

        string cudaType = CudaTypeMapper.Describe(typeTokens);
        bool isArray = nameIndex != end - 1;
        string? type = isArray ? null : CudaTypeMapper.Map(typeTokens);
        if (type is null)
        {
            // The type's tokens; for an array (float x[4]) they surround the name.
            context.Report(
                DiagnosticDescriptors.UnsupportedParameterType,
                context.Locate(tokens[start], tokens[isArray ? end - 1 : nameIndex - 1]),
                kernel,
                name.Text,
                cudaType);
            return null;
        }

        string csharpName = Naming.ToCamelCase(name.Text);
        if (csharpName.Length == 0)
        {
            csharpName = "parameter" + position;
        }

        string unescaped = Naming.Unescaped(csharpName);
        if (Reserved.Contains(unescaped) || !names.Add(unescaped))
        {
            string owner = Reserved.Contains(unescaped) ? "the launcher's own parameter" : "an earlier parameter";
            context.Report(
                DiagnosticDescriptors.NameCollision,
                context.Locate(name),
                "Parameter '" + name.Text + "' of kernel '" + kernel + "'",
                unescaped,
                owner + " already has; rename it in the .cu file");
            return null;
        }

        return new ParameterModel(name.Text, cudaType, csharpName, type);
    }

    private static int MatchingOpenBracket(ImmutableArray<CudaToken> tokens, int start, int close)
    {
        int depth = 0;
        for (int i = close; i >= start; i--)
        {
            if (tokens[i].IsPunctuation("]"))
            {
                depth++;
            }
            else if (tokens[i].IsPunctuation("[") && --depth == 0)
            {
                return i;
            }
        }

        return start;
    }

    private static string Describe(ImmutableArray<CudaToken> tokens, int start, int end)
    {
        var list = new List<CudaToken>(end - start);
        for (int i = start; i < end; i++)
        {
            list.Add(tokens[i]);
        }

        return CudaTypeMapper.Describe(list);
    }
}
