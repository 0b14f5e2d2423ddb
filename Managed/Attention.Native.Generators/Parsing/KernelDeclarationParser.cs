using System.Collections.Generic;
using System.Collections.Immutable;
using Attention.Native.Generators.Emit;
using Attention.Native.Generators.Models;

namespace Attention.Native.Generators.Parsing;

/// <summary>
/// Reads one <c>extern "C" __global__</c> declaration: specifiers and attributes (<c>__launch_bounds__(...)</c>,
/// <c>[[...]]</c>) in any order, the <c>void</c> return type, the name and the one params struct parameter.
/// </summary>
internal static class KernelDeclarationParser
{
    /// <summary>Attribute-like keywords whose parenthesised arguments are skipped wherever they stand.</summary>
    private static readonly HashSet<string> Attributes = new(System.StringComparer.Ordinal)
    {
        "__launch_bounds__", "__maxnreg__", "__cluster_dims__", "__attribute__", "__declspec", "alignas",
    };

    /// <summary>Specifiers that say nothing about the return type.</summary>
    private static readonly HashSet<string> Specifiers = new(System.StringComparer.Ordinal)
    {
        "__global__", "static", "inline", "__inline__", "__forceinline__", "__noinline__",
    };

    /// <summary>The kernel declared from token <paramref name="start"/>, or null after reporting why there is none.</summary>
    public static KernelDeclaration? Parse(ParseContext context, int start, int globalToken)
    {
        ImmutableArray<CudaToken> tokens = context.Tokens;
        var returnType = new List<CudaToken>();
        int i = start;
        while (true)
        {
            if (i >= tokens.Length || tokens[i].Kind == CudaTokenKind.Punctuation && tokens[i].Text is ";" or "{" or "}")
            {
                return context.Malformed<KernelDeclaration>(tokens[globalToken], "expected the kernel's name and parameter list after __global__");
            }

            CudaToken token = tokens[i];
            if (KernelSiteFinder.IsExternC(context, i))
            {
                i += 2;
            }
            else if (token.IsPunctuation("[") && context.IsToken(i + 1, "["))
            {
                int close = context.FindClosing(i, "[", "]");
                if (close < 0)
                {
                    return context.Malformed<KernelDeclaration>(token, "the attribute is not closed");
                }

                i = close + 1;
            }
            else if (token.Kind == CudaTokenKind.Identifier && Attributes.Contains(token.Text))
            {
                int close = context.IsToken(i + 1, "(") ? context.FindClosing(i + 1, "(", ")") : -1;
                if (close < 0)
                {
                    return context.Malformed<KernelDeclaration>(token, "expected a closed '(...)' after " + token.Text);
                }

                i = close + 1;
            }
            else if (token.Kind == CudaTokenKind.Identifier && context.IsToken(i + 1, "(") && !CudaTypeMapper.IsTypeWord(token.Text))
            {
                return ParseSignature(context, returnType, token, i + 1);
            }
            else if (token.IsPunctuation("("))
            {
                return context.Malformed<KernelDeclaration>(token, "expected the kernel's name before '('");
            }
            else
            {
                if (!(token.Kind == CudaTokenKind.Identifier && Specifiers.Contains(token.Text)))
                {
                    returnType.Add(token);
                }

                i++;
            }
        }
    }

    private static KernelDeclaration? ParseSignature(ParseContext context, List<CudaToken> returnType, CudaToken name, int open)
    {
        if (returnType.Count == 0)
        {
            return context.Malformed<KernelDeclaration>(name, "kernel '" + name.Text + "' has no return type");
        }

        if (returnType.Count != 1 || !returnType[0].IsIdentifier("void"))
        {
            context.Report(
                DiagnosticDescriptors.NonVoidReturn,
                context.Locate(returnType[0], returnType[returnType.Count - 1]),
                name.Text,
                CudaTypeMapper.Describe(returnType));
            return null;
        }

        int close = context.FindClosing(open, "(", ")");
        if (close < 0)
        {
            return context.Malformed<KernelDeclaration>(context.Tokens[open], "the parameter list of '" + name.Text + "' is not closed");
        }

        (ParamsReference Reference, SourceLocation Location)? parameter = ParamsParameterParser.Parse(context, name.Text, open, close);
        if (parameter is null)
        {
            return null;
        }

        string methodName = Naming.ToPascalCase(name.Text);
        var kernel = new KernelModel(
            name.Text,
            methodName.Length > 0 ? methodName : "Unnamed",
            System.IO.Path.GetFileName(context.FilePath),
            parameter.Value.Reference);
        return new KernelDeclaration(kernel, context.Locate(name), parameter.Value.Location);
    }
}
