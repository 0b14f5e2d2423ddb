using System.Collections.Immutable;
using Attention.Native.Generators.Models;

namespace Attention.Native.Generators.Parsing;

/// <summary>
/// Finds what may be macro invocations at namespace scope: <c>NAME(arguments)</c> that starts a declaration (after
/// <c>;</c>, <c>{</c>, <c>}</c>, another such invocation, or at the file's start). Only the ones naming an entry macro
/// of some file are expanded (<see cref="MacroExpander"/>); the arguments are split at commas outside parentheses, as
/// the preprocessor splits them.
/// </summary>
internal static class MacroInvocationFinder
{
    public static ImmutableArray<MacroInvocation> Find(ParseContext context, FileScopes scopes)
    {
        ImmutableArray<CudaToken> tokens = context.Tokens;
        ImmutableArray<MacroInvocation>.Builder invocations = ImmutableArray.CreateBuilder<MacroInvocation>();
        int lastClose = -1;
        for (int i = 0; i + 1 < tokens.Length; i++)
        {
            CudaToken name = tokens[i];
            if (name.Kind != CudaTokenKind.Identifier || !tokens[i + 1].IsPunctuation("(") || !scopes.AtNamespaceScope(i)
                || CudaTypeMapper.IsTypeWord(name.Text))
            {
                continue;
            }

            bool startsDeclaration = i == 0 || i - 1 == lastClose
                || tokens[i - 1].Kind == CudaTokenKind.Punctuation && tokens[i - 1].Text is ";" or "{" or "}";
            if (!startsDeclaration)
            {
                continue;
            }

            int close = ParseContext.FindClosing(tokens, i + 1, "(", ")", stopAtDeclarationEnd: false);
            if (close < 0)
            {
                break;
            }

            var arguments = ImmutableArray.CreateBuilder<EquatableArray<CudaToken>>();
            var argument = ImmutableArray.CreateBuilder<CudaToken>();
            int depth = 0;
            for (int j = i + 2; j < close; j++)
            {
                CudaToken token = tokens[j];
                if (token.IsPunctuation(",") && depth == 0)
                {
                    arguments.Add(argument.ToEquatableArray());
                    argument.Clear();
                    continue;
                }

                depth += token.IsPunctuation("(") ? 1 : token.IsPunctuation(")") ? -1 : 0;
                argument.Add(token);
            }

            if (close > i + 2 || arguments.Count > 0)
            {
                arguments.Add(argument.ToEquatableArray());
            }

            invocations.Add(new MacroInvocation(
                name.Text, arguments.ToEquatableArray(), context.Locate(name, tokens[close]), System.IO.Path.GetFileName(context.FilePath)));
            lastClose = close;
            i = close;
        }

        return invocations.ToImmutable();
    }
}
