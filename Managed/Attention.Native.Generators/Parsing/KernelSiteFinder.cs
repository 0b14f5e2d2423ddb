using System.Collections.Immutable;

namespace Attention.Native.Generators.Parsing;

/// <summary>
/// Finds the declarations of <c>extern "C"</c> kernels: every <c>__global__</c> whose declaration starts with
/// <c>extern "C"</c> or that stands directly in an <c>extern "C" { ... }</c> block. Other <c>__global__</c>
/// functions (templates, C++ linkage) are not entry points and are skipped.
/// </summary>
internal static class KernelSiteFinder
{
    /// <summary>Pairs of (first token of the declaration, its <c>__global__</c> token), in file order.</summary>
    public static ImmutableArray<(int Start, int Global)> Find(ParseContext context)
    {
        ImmutableArray<CudaToken> tokens = context.Tokens;
        ImmutableArray<(int, int)>.Builder sites = ImmutableArray.CreateBuilder<(int, int)>();

        // One entry per open brace: whether it opens an extern "C" block.
        var braces = new System.Collections.Generic.Stack<bool>();
        int lastStart = -1;
        for (int i = 0; i < tokens.Length; i++)
        {
            CudaToken token = tokens[i];
            if (token.IsPunctuation("{"))
            {
                braces.Push(IsExternC(context, i - 2));
            }
            else if (token.IsPunctuation("}"))
            {
                if (braces.Count > 0)
                {
                    braces.Pop();
                }
            }
            else if (token.IsIdentifier("__global__"))
            {
                int start = DeclarationStart(tokens, i);
                bool inExternBlock = braces.Count > 0 && braces.Peek();
                if (start != lastStart && (inExternBlock || StartsWithExternC(context, start, i)))
                {
                    sites.Add((start, i));
                    lastStart = start;
                }
            }
        }

        return sites.ToImmutable();
    }

    /// <summary>Whether tokens <paramref name="index"/> and the next read <c>extern "C"</c>.</summary>
    public static bool IsExternC(ParseContext context, int index) =>
        index >= 0 && index + 1 < context.Tokens.Length
        && context.Tokens[index].IsIdentifier("extern")
        && context.Tokens[index + 1].Kind == CudaTokenKind.String
        && context.Tokens[index + 1].Is("\"C\"");

    private static bool StartsWithExternC(ParseContext context, int start, int end)
    {
        for (int i = start; i < end; i++)
        {
            if (IsExternC(context, i))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The token after the previous <c>;</c>, <c>{</c> or <c>}</c>: where this declaration begins.</summary>
    private static int DeclarationStart(ImmutableArray<CudaToken> tokens, int index)
    {
        int i = index - 1;
        while (i >= 0 && !(tokens[i].Kind == CudaTokenKind.Punctuation && tokens[i].Text is ";" or "{" or "}"))
        {
            i--;
        }

        return i + 1;
    }
}
