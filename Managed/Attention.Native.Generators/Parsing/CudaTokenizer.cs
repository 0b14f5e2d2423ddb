using System.Collections.Generic;
using System.Collections.Immutable;
using System.Threading;

namespace Attention.Native.Generators.Parsing;

/// <summary>
/// Splits CUDA C++ into the tokens a declaration is made of. Comments and preprocessor directives (with their
/// line continuations) are skipped; string, raw-string and character literals are single tokens, so text inside them
/// never looks like a declaration. Every other non-space character is a one-character punctuation token.
/// </summary>
internal static class CudaTokenizer
{
    public static ImmutableArray<CudaToken> Tokenize(string text, CancellationToken cancellationToken) =>
        Tokenize(text, cancellationToken, directives: null);

    /// <summary>
    /// The tokens of <paramref name="text"/>; where <paramref name="directives"/> is given, each skipped preprocessor
    /// directive's span [start, end) is added to it, in file order.
    /// </summary>
    public static ImmutableArray<CudaToken> Tokenize(string text, CancellationToken cancellationToken, List<(int Start, int End)>? directives) =>
        Tokenize(text, 0, cancellationToken, directives, readDirectives: true);

    /// <summary>
    /// The tokens of a macro's replacement list, <paramref name="text"/>, which starts at <paramref name="offset"/> in
    /// its file: no directives there, so <c>#</c> and <c>##</c> are punctuation.
    /// </summary>
    public static ImmutableArray<CudaToken> TokenizeReplacement(string text, int offset, CancellationToken cancellationToken) =>
        Tokenize(text, offset, cancellationToken, directives: null, readDirectives: false);

    private static ImmutableArray<CudaToken> Tokenize(
        string text, int offset, CancellationToken cancellationToken, List<(int Start, int End)>? directives, bool readDirectives)
    {
        ImmutableArray<CudaToken>.Builder tokens = ImmutableArray.CreateBuilder<CudaToken>();
        int i = 0;
        bool atLineStart = readDirectives;
        while (i < text.Length)
        {
            cancellationToken.ThrowIfCancellationRequested();
            char c = text[i];
            if (c == '\n')
            {
                atLineStart = readDirectives;
                i++;
            }
            else if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c == '/' && Peek(text, i + 1) == '/')
            {
                i = SkipLineComment(text, i);
            }
            else if (c == '/' && Peek(text, i + 1) == '*')
            {
                i = SkipBlockComment(text, i);
            }
            else if (c == '#' && atLineStart)
            {
                int start = i;
                i = SkipDirective(text, i);
                directives?.Add((start, i));
            }
            else
            {
                atLineStart = false;
                i = ReadToken(text, i, offset, tokens);
            }
        }

        return tokens.ToImmutable();
    }

    private static int ReadToken(string text, int start, int offset, ImmutableArray<CudaToken>.Builder tokens)
    {
        char c = text[start];
        int end;
        CudaTokenKind kind;
        if (IsIdentifierStart(c))
        {
            end = start + 1;
            while (end < text.Length && IsIdentifierPart(text[end]))
            {
                end++;
            }

            string prefix = text.Substring(start, end - start);
            char next = Peek(text, end);
            if (next == '"' && prefix is "R" or "LR" or "uR" or "UR" or "u8R")
            {
                // R"delimiter( ... )delimiter"
                end = SkipRawString(text, end);
                kind = CudaTokenKind.String;
            }
            else if (next is '"' or '\'' && prefix is "L" or "u" or "U" or "u8")
            {
                end = SkipQuoted(text, end, next);
                kind = next == '"' ? CudaTokenKind.String : CudaTokenKind.Character;
            }
            else
            {
                kind = CudaTokenKind.Identifier;
            }
        }
        else if (char.IsDigit(c) || (c == '.' && char.IsDigit(Peek(text, start + 1))))
        {
            end = SkipNumber(text, start);
            kind = CudaTokenKind.Number;
        }
        else if (c is '"' or '\'')
        {
            end = SkipQuoted(text, start, c);
            kind = c == '"' ? CudaTokenKind.String : CudaTokenKind.Character;
        }
        else
        {
            end = start + 1;
            kind = CudaTokenKind.Punctuation;
        }

        tokens.Add(new CudaToken(kind, text.Substring(start, end - start), offset + start, offset + end));
        return end;
    }

    private static char Peek(string text, int index) => index < text.Length ? text[index] : '\0';

    private static bool IsIdentifierStart(char c) => c == '_' || char.IsLetter(c);

    private static bool IsIdentifierPart(char c) => c == '_' || char.IsLetterOrDigit(c);

    private static int SkipLineComment(string text, int start)
    {
        int i = start;
        while (i < text.Length && text[i] != '\n')
        {
            i++;
        }

        return i;
    }

    private static int SkipBlockComment(string text, int start)
    {
        int close = text.IndexOf("*/", start + 2, System.StringComparison.Ordinal);
        return close < 0 ? text.Length : close + 2;
    }

    /// <summary>Skips a directive up to its end of line, following backslash continuations and block comments.</summary>
    private static int SkipDirective(string text, int start)
    {
        int i = start;
        while (i < text.Length && text[i] != '\n')
        {
            if (text[i] == '\\' && Peek(text, i + 1) == '\n')
            {
                i += 2;
            }
            else if (text[i] == '\\' && Peek(text, i + 1) == '\r' && Peek(text, i + 2) == '\n')
            {
                i += 3;
            }
            else if (text[i] == '/' && Peek(text, i + 1) == '*')
            {
                i = SkipBlockComment(text, i);
            }
            else if (text[i] == '/' && Peek(text, i + 1) == '/')
            {
                return SkipLineComment(text, i);
            }
            else
            {
                i++;
            }
        }

        return i;
    }

    /// <summary>Skips a quoted literal opened at <paramref name="start"/>; an unterminated one ends at its line's end.</summary>
    private static int SkipQuoted(string text, int start, char quote)
    {
        int i = start + 1;
        while (i < text.Length && text[i] != quote && text[i] != '\n')
        {
            i += text[i] == '\\' ? 2 : 1;
        }

        return i < text.Length && text[i] == quote ? i + 1 : System.Math.Min(i, text.Length);
    }

    private static int SkipRawString(string text, int quote)
    {
        int open = text.IndexOf('(', quote + 1);
        if (open < 0)
        {
            return text.Length;
        }

        string terminator = ")" + text.Substring(quote + 1, open - quote - 1) + "\"";
        int close = text.IndexOf(terminator, open + 1, System.StringComparison.Ordinal);
        return close < 0 ? text.Length : close + terminator.Length;
    }

    private static int SkipNumber(string text, int start)
    {
        int i = start + 1;
        while (i < text.Length)
        {
            char c = text[i];
            if (IsIdentifierPart(c) || c == '.' || (c == '\'' && IsIdentifierPart(Peek(text, i + 1))))
            {
                i++;
            }
            else if ((c is '+' or '-') && text[i - 1] is 'e' or 'E' or 'p' or 'P')
            {
                i++;
            }
            else
            {
                break;
            }
        }

        return i;
    }
}
