using System.Collections.Generic;
using System.Collections.Immutable;
using System.Threading;
using Attention.Native.Generators.Models;
using Microsoft.CodeAnalysis.Text;

namespace Attention.Native.Generators.Parsing;

/// <summary>
/// Reads a file's entry macros: <c>#define NAME(a, b) ...</c> whose replacement list contains <c>__global__</c>. Other
/// directives (object-like macros, <c>#include</c>, <c>#undef</c>, conditionals) are not read: an entry macro's name
/// is defined once across <c>Native/</c>, and its invocations are expanded wherever they stand.
/// </summary>
internal static class MacroReader
{
    public static ImmutableArray<EntryMacro> Read(string filePath, SourceText text, List<(int Start, int End)> directives, CancellationToken cancellationToken)
    {
        string source = text.ToString();
        ImmutableArray<EntryMacro>.Builder macros = ImmutableArray.CreateBuilder<EntryMacro>();
        foreach ((int start, int end) in directives)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Line continuations become spaces (offsets unchanged, so tokens keep their places in the file).
            string directive = source.Substring(start, end - start).Replace("\\\r\n", "  \n").Replace("\\\n", " \n");
            int i = 1;
            SkipSpaces(directive, ref i);
            if (!ReadWord(directive, ref i, out string keyword) || keyword != "define")
            {
                continue;
            }

            SkipSpaces(directive, ref i);
            int nameStart = i;
            if (!ReadWord(directive, ref i, out string name) || i >= directive.Length || directive[i] != '(')
            {
                continue;  // object-like
            }

            int close = directive.IndexOf(')', i);
            if (close < 0)
            {
                continue;
            }

            var parameters = new List<string>();
            foreach (string parameter in directive.Substring(i + 1, close - i - 1).Split(','))
            {
                string trimmed = parameter.Trim();
                if (trimmed.Length > 0)
                {
                    parameters.Add(trimmed);
                }
            }

            ImmutableArray<CudaToken> body = CudaTokenizer.TokenizeReplacement(directive.Substring(close + 1), start + close + 1, cancellationToken);
            bool declaresKernels = false;
            foreach (CudaToken token in body)
            {
                declaresKernels |= token.IsIdentifier("__global__");
            }

            if (declaresKernels)
            {
                macros.Add(new EntryMacro(
                    name,
                    parameters.ToEquatableArray(),
                    body.ToEquatableArray(),
                    SourceLocation.Create(filePath, text, start + nameStart, start + nameStart + name.Length)));
            }
        }

        return macros.ToImmutable();
    }

    private static void SkipSpaces(string text, ref int i)
    {
        while (i < text.Length && text[i] is ' ' or '\t' or '\n' or '\r')
        {
            i++;
        }
    }

    private static bool ReadWord(string text, ref int i, out string word)
    {
        int start = i;
        while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '_'))
        {
            i++;
        }

        word = text.Substring(start, i - start);
        return word.Length > 0;
    }
}
