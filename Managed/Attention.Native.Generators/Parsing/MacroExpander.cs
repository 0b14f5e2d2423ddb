using System.Collections.Generic;
using System.Collections.Immutable;
using System.Threading;
using Attention.Native.Generators.Models;

namespace Attention.Native.Generators.Parsing;

/// <summary>
/// Expands an entry macro's invocation as the preprocessor would for what entry macros use: each parameter replaced
/// by its argument's tokens, <c>a ## b</c> pasted into one token, <c>#a</c> made a string. Arguments are not
/// macro-expanded and the result is not rescanned (an entry macro's replacement names its kernels directly). Every
/// token of the result stands at the invocation, where the kernels it declares are reported.
/// </summary>
internal static class MacroExpander
{
    /// <summary>The expansion's tokens, or null with <paramref name="error"/> saying why there is none.</summary>
    public static ImmutableArray<CudaToken>? Expand(EntryMacro macro, MacroInvocation invocation, out string? error)
    {
        error = null;
        if (macro.Parameters.Length != invocation.Arguments.Length)
        {
            error = "macro '" + macro.Name + "' takes " + macro.Parameters.Length + " arguments, not " + invocation.Arguments.Length;
            return null;
        }

        var arguments = new Dictionary<string, EquatableArray<CudaToken>>(System.StringComparer.Ordinal);
        for (int p = 0; p < macro.Parameters.Length; p++)
        {
            arguments[macro.Parameters[p]] = invocation.Arguments[p];
        }

        int start = invocation.Location.Span.Start;
        int end = invocation.Location.Span.End;
        var output = new List<CudaToken>();
        ImmutableArray<CudaToken> body = macro.Body.Items;
        bool paste = false;
        for (int i = 0; i < body.Length; i++)
        {
            CudaToken token = body[i];
            if (IsPaste(body, i))
            {
                if (output.Count == 0 || i + 2 >= body.Length)
                {
                    error = "'##' at either end of macro '" + macro.Name + "'";
                    return null;
                }

                paste = true;
                i++;
                continue;
            }

            List<CudaToken> operand;
            if (token.IsPunctuation("#") && i + 1 < body.Length && arguments.TryGetValue(body[i + 1].Text, out EquatableArray<CudaToken> stringized))
            {
                operand = [new CudaToken(CudaTokenKind.String, "\"" + CudaTypeMapper.Describe(stringized.Items) + "\"", start, end)];
                i++;
            }
            else if (token.Kind == CudaTokenKind.Identifier && arguments.TryGetValue(token.Text, out EquatableArray<CudaToken> argument))
            {
                operand = [.. argument];
            }
            else
            {
                operand = [token];
            }

            if (paste && operand.Count > 0)
            {
                CudaToken left = output[output.Count - 1];
                string text = left.Text + operand[0].Text;
                ImmutableArray<CudaToken> pasted = CudaTokenizer.TokenizeReplacement(text, 0, CancellationToken.None);
                if (pasted.Length != 1)
                {
                    error = "pasting '" + left.Text + "' and '" + operand[0].Text + "' in macro '" + macro.Name + "' does not give one token";
                    return null;
                }

                output[output.Count - 1] = pasted[0];
                operand.RemoveAt(0);
            }

            paste = false;
            output.AddRange(operand);
        }

        ImmutableArray<CudaToken>.Builder located = ImmutableArray.CreateBuilder<CudaToken>(output.Count);
        foreach (CudaToken token in output)
        {
            located.Add(token with { Start = start, End = end });
        }

        return located.MoveToImmutable();
    }

    /// <summary>Whether tokens <paramref name="i"/> and the next are <c>##</c> (two adjacent <c>#</c>).</summary>
    private static bool IsPaste(ImmutableArray<CudaToken> body, int i) =>
        i + 1 < body.Length && body[i].IsPunctuation("#") && body[i + 1].IsPunctuation("#") && body[i + 1].Start == body[i].End;
}
