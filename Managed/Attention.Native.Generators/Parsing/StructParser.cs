using System.Collections.Generic;
using System.Collections.Immutable;
using Attention.Native.Generators.Emit;
using Attention.Native.Generators.Models;
using Microsoft.CodeAnalysis.Text;

namespace Attention.Native.Generators.Parsing;

/// <summary>
/// Reads the structs a file defines at namespace scope — <c>struct S { ... };</c> or <c>template &lt;typename T&gt;
/// struct S { ... };</c> — into models with C's layout: each data member at the next multiple of its size (every
/// supported type is aligned to its size), the whole rounded up to the largest. Any struct may turn out to be a
/// params struct, so nothing is reported here: what keeps a struct from being one is kept with it (ATTN001, ATTN002,
/// ATTN005, ATTN009) and reported when a kernel takes it.
/// </summary>
internal static class StructParser
{
    /// <summary>The members every generated struct has besides the fields.</summary>
    public static readonly ImmutableArray<string> GeneratedMembers = ImmutableArray.Create("NativeSize", "NativeOffsets", "Kernels");

    /// <summary>Member declarations that are not data members.</summary>
    private static readonly HashSet<string> NotData = new(System.StringComparer.Ordinal)
    {
        "static", "using", "typedef", "friend", "template", "enum", "struct", "union", "class", "constexpr", "virtual",
        "alignas", "__align__", "operator", "explicit", "inline",
    };

    public static ImmutableArray<StructDeclaration> Find(ParseContext context, FileScopes scopes)
    {
        ImmutableArray<CudaToken> tokens = context.Tokens;
        ImmutableArray<StructDeclaration>.Builder structs = ImmutableArray.CreateBuilder<StructDeclaration>();
        for (int i = 0; i + 2 < tokens.Length; i++)
        {
            if (!tokens[i].IsIdentifier("struct") || !scopes.AtNamespaceScope(i) || (i > 0 && tokens[i - 1].IsIdentifier("typedef"))
                || tokens[i + 1].Kind != CudaTokenKind.Identifier || CudaTypeMapper.IsTypeWord(tokens[i + 1].Text))
            {
                continue;
            }

            int open = i + 2;
            bool derived = tokens[open].IsPunctuation(":");
            while (open < tokens.Length && !tokens[open].IsPunctuation("{") && !tokens[open].IsPunctuation(";"))
            {
                open++;
            }

            if (open >= tokens.Length || !tokens[open].IsPunctuation("{"))
            {
                continue;  // a declaration, not a definition
            }

            int close = ParseContext.FindClosing(tokens, open, "{", "}", stopAtDeclarationEnd: false);
            if (close < 0)
            {
                break;  // not closed (a file being typed): nothing after it is at namespace scope either
            }

            structs.Add(Read(context, scopes, i, open, close, derived));
            i = close;
        }

        return structs.ToImmutable();
    }

    private static StructDeclaration Read(ParseContext context, FileScopes scopes, int keyword, int open, int close, bool derived)
    {
        ImmutableArray<CudaToken> tokens = context.Tokens;
        CudaToken nameToken = tokens[keyword + 1];
        string name = nameToken.Text;
        var problems = ImmutableArray.CreateBuilder<DiagnosticInfo>();
        void Problem(string what) => problems.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedStructShape, context.Locate(nameToken), name, what));

        string? typeParameter = TemplateParameter(tokens, keyword, out bool template);
        if (template && typeParameter is null)
        {
            Problem("is a template whose parameters are not one element type ('template <typename T>')");
            open = close;  // its fields cannot be typed without knowing what the parameters are
        }

        if (derived)
        {
            Problem("derives from another struct");
        }

        var fields = ImmutableArray.CreateBuilder<FieldModel>();
        var csharpNames = new HashSet<string>(System.StringComparer.Ordinal);
        string csharpStruct = Naming.ToPascalCase(name);
        int offset = 0;
        int alignment = 1;
        int start = open + 1;
        while (start < close)
        {
            int end = MemberEnd(tokens, start, close, out bool hasBody);
            if (end > start)
            {
                string? notData = NotDataMember(tokens, start, end, hasBody);
                if (notData is not null)
                {
                    Problem(notData);
                }
                else
                {
                    string comment = TrailingComment(context, end);
                    foreach ((string fieldName, CudaToken fieldToken, List<CudaToken> type, bool array) in Declarators(tokens, start, end))
                    {
                        string cudaType = CudaTypeMapper.Describe(type);
                        if (fieldName.Length == 0)
                        {
                            problems.Add(DiagnosticInfo.Create(
                                DiagnosticDescriptors.MalformedDeclaration,
                                type.Count > 0 ? context.Locate(type[0], type[type.Count - 1]) : context.Locate(fieldToken),
                                "a member of struct '" + name + "' ('" + cudaType + "') has no name"));
                            continue;
                        }

                        (string Type, int Size)? mapped = array ? null : CudaTypeMapper.Map(type, typeParameter);
                        if (mapped is null)
                        {
                            problems.Add(DiagnosticInfo.Create(
                                DiagnosticDescriptors.UnsupportedFieldType,
                                type.Count > 0 ? context.Locate(type[0], type[type.Count - 1]) : context.Locate(fieldToken),
                                name,
                                fieldName,
                                cudaType));
                            continue;
                        }

                        string csharpName = Naming.ToPascalCase(fieldName);
                        string? collision = csharpName == csharpStruct ? "is the struct's own C# name"
                            : GeneratedMembers.Contains(csharpName) ? "a member every generated struct has already has"
                            : !csharpNames.Add(csharpName) ? "an earlier field already has"
                            : null;
                        if (collision is not null)
                        {
                            problems.Add(DiagnosticInfo.Create(
                                DiagnosticDescriptors.NameCollision,
                                context.Locate(fieldToken),
                                "Field '" + fieldName + "' of struct '" + name + "'",
                                csharpName,
                                collision + "; rename it in the source"));
                            continue;
                        }

                        int fieldAlignment = CudaTypeMapper.Alignment(mapped.Value);
                        int aligned = (offset + fieldAlignment - 1) / fieldAlignment * fieldAlignment;
                        if (fieldAlignment > 8 && aligned != (offset + 7) / 8 * 8)
                        {
                            // The C# mirror aligns every member to at most 8 bytes: it would put this one elsewhere.
                            Problem("has member '" + fieldName + "' ('" + cudaType + "', " + fieldAlignment + "-byte aligned) at offset "
                                + aligned + ", where C#'s sequential layout would put it at " + ((offset + 7) / 8 * 8)
                                + "; declare such members first");
                        }

                        offset = aligned;
                        fields.Add(new FieldModel(fieldName, cudaType, csharpName, mapped.Value.Type, offset, comment));
                        offset += mapped.Value.Size;
                        alignment = System.Math.Max(alignment, fieldAlignment);
                    }
                }
            }

            start = end + 1;
        }

        if (fields.Count == 0 && problems.Count == 0)
        {
            Problem("has no data members");
        }

        string ns = scopes.NamespaceOf(keyword);
        var model = new StructModel(
            name,
            ns.Length == 0 ? name : ns + "::" + name,
            csharpStruct.Length > 0 ? csharpStruct : "Unnamed",
            typeParameter,
            System.IO.Path.GetFileName(context.FilePath),
            fields.ToEquatableArray(),
            (offset + alignment - 1) / alignment * alignment);
        return new StructDeclaration(model, context.Locate(nameToken), problems.ToEquatableArray());
    }

    /// <summary>
    /// The template's one type parameter (<c>template &lt;typename T&gt; struct</c>), or null; <paramref name="template"/>
    /// says whether the struct is a template at all.
    /// </summary>
    private static string? TemplateParameter(ImmutableArray<CudaToken> tokens, int keyword, out bool template)
    {
        template = false;
        if (keyword == 0 || !tokens[keyword - 1].IsPunctuation(">"))
        {
            return null;
        }

        int depth = 0;
        int i = keyword - 1;
        for (; i >= 0; i--)
        {
            depth += tokens[i].IsPunctuation(">") ? 1 : tokens[i].IsPunctuation("<") ? -1 : 0;
            if (depth == 0)
            {
                break;
            }
        }

        if (i <= 0 || !tokens[i - 1].IsIdentifier("template"))
        {
            return null;
        }

        template = true;
        int count = keyword - 1 - (i + 1);
        return count == 2 && (tokens[i + 1].IsIdentifier("typename") || tokens[i + 1].IsIdentifier("class"))
            && tokens[i + 2].Kind == CudaTokenKind.Identifier
            ? tokens[i + 2].Text
            : null;
    }

    /// <summary>
    /// The index of the <c>;</c> (or, for a member function's body, the <c>}</c>) that ends the member starting at
    /// <paramref name="start"/>; <paramref name="close"/> when the struct ends first.
    /// </summary>
    private static int MemberEnd(ImmutableArray<CudaToken> tokens, int start, int close, out bool hasBody)
    {
        hasBody = false;
        int depth = 0;
        for (int i = start; i < close; i++)
        {
            CudaToken token = tokens[i];
            if (token.Kind != CudaTokenKind.Punctuation)
            {
                continue;
            }

            if (token.Text is "(" or "[")
            {
                depth++;
            }
            else if (token.Text is ")" or "]")
            {
                depth--;
            }
            else if (token.Is("{") && depth == 0)
            {
                hasBody = true;
                int end = ParseContext.FindClosing(tokens, i, "{", "}", stopAtDeclarationEnd: false);
                if (end < 0 || end >= close)
                {
                    return close;
                }

                // A function body ends the member; a brace initializer is followed by its ';'.
                return end + 1 < close && tokens[end + 1].IsPunctuation(";") ? end + 1 : end;
            }
            else if (token.Is(";") && depth == 0)
            {
                return i;
            }
        }

        return close;
    }

    /// <summary>Why the member in [start, end) is not a plain data member, or null.</summary>
    private static string? NotDataMember(ImmutableArray<CudaToken> tokens, int start, int end, bool hasBody)
    {
        CudaToken first = tokens[start];
        string text = Describe(tokens, start, end);
        if (first.Kind == CudaTokenKind.Identifier && first.Text is "public" or "private" or "protected" && start + 1 < end && tokens[start + 1].IsPunctuation(":"))
        {
            return "has access specifiers ('" + first.Text + ":')";
        }

        if (first.Kind == CudaTokenKind.Identifier && NotData.Contains(first.Text))
        {
            return "has a member that is not a data member ('" + Shorten(text) + "')";
        }

        for (int i = start; i < end; i++)
        {
            if (tokens[i].IsPunctuation("("))
            {
                int body = start;
                while (body < end && !tokens[body].IsPunctuation("{"))
                {
                    body++;
                }

                return "has a member function ('" + Shorten(Describe(tokens, start, body)) + "')";
            }

            if (tokens[i].IsPunctuation("=") || (hasBody && tokens[i].IsPunctuation("{")))
            {
                return "gives a member a default value ('" + Shorten(text) + "')";
            }

            // "::" qualifies a type name (hopper::TensorMap); a lone ':' declares a bit-field.
            bool scope = (i + 1 < end && tokens[i + 1].IsPunctuation(":")) || (i > start && tokens[i - 1].IsPunctuation(":"));
            if (tokens[i].IsPunctuation(":") && !scope)
            {
                return "has a bit-field or other member C# cannot lay out ('" + Shorten(text) + "')";
            }
        }

        return null;
    }

    /// <summary>
    /// The fields one member declaration declares: <c>int a, b;</c> is two, <c>const T* q, *k;</c> too (the
    /// declarators share the specifiers before the first <c>*</c>). Each with its name, its name's token, its type's
    /// tokens and whether it is an array (which no field may be).
    /// </summary>
    private static IEnumerable<(string Name, CudaToken NameToken, List<CudaToken> Type, bool Array)> Declarators(ImmutableArray<CudaToken> tokens, int start, int end)
    {
        var pieces = new List<(int Start, int End)>();
        int depth = 0;
        int pieceStart = start;
        for (int i = start; i < end; i++)
        {
            if (tokens[i].Kind == CudaTokenKind.Punctuation && tokens[i].Text is "[" or "<")
            {
                depth++;
            }
            else if (tokens[i].Kind == CudaTokenKind.Punctuation && tokens[i].Text is "]" or ">")
            {
                depth--;
            }
            else if (tokens[i].IsPunctuation(",") && depth == 0)
            {
                pieces.Add((pieceStart, i));
                pieceStart = i + 1;
            }
        }

        pieces.Add((pieceStart, end));
        List<CudaToken>? specifiers = null;
        foreach ((int s, int e) in pieces)
        {
            int nameIndex = e - 1;
            bool array = false;
            while (nameIndex > s && tokens[nameIndex].IsPunctuation("]"))
            {
                array = true;
                while (nameIndex > s && !tokens[nameIndex].IsPunctuation("["))
                {
                    nameIndex--;
                }

                nameIndex--;
            }

            if (nameIndex < s || tokens[nameIndex].Kind != CudaTokenKind.Identifier || CudaTypeMapper.IsTypeWord(tokens[nameIndex].Text))
            {
                yield return (string.Empty, tokens[s < e ? s : System.Math.Max(start, s - 1)], [.. Range(tokens, s, e)], true);
                continue;
            }

            if (specifiers is null)
            {
                int firstPointer = s;
                while (firstPointer < nameIndex && !tokens[firstPointer].IsPunctuation("*"))
                {
                    firstPointer++;
                }

                specifiers = [.. Range(tokens, s, firstPointer)];
                List<CudaToken> type = [.. specifiers, .. Range(tokens, firstPointer, nameIndex)];
                if (array)
                {
                    type.AddRange(Range(tokens, nameIndex + 1, e));
                }

                yield return (tokens[nameIndex].Text, tokens[nameIndex], type, array);
            }
            else
            {
                List<CudaToken> type = [.. specifiers, .. Range(tokens, s, nameIndex)];
                if (array)
                {
                    type.AddRange(Range(tokens, nameIndex + 1, e));
                }

                yield return (tokens[nameIndex].Text, tokens[nameIndex], type, array);
            }
        }
    }

    /// <summary>The <c>// comment</c> that follows token <paramref name="semicolon"/> on its line, or "".</summary>
    private static string TrailingComment(ParseContext context, int semicolon)
    {
        if (context.Text is null || semicolon >= context.Tokens.Length)
        {
            return string.Empty;
        }

        SourceText text = context.Text;
        int end = context.Tokens[semicolon].End;
        TextLine line = text.Lines.GetLineFromPosition(System.Math.Min(end, text.Length));
        string rest = text.ToString(TextSpan.FromBounds(System.Math.Min(end, line.End), line.End)).TrimStart();
        return rest.StartsWith("//", System.StringComparison.Ordinal) ? rest.Substring(2).Trim() : string.Empty;
    }

    private static IEnumerable<CudaToken> Range(ImmutableArray<CudaToken> tokens, int start, int end)
    {
        for (int i = start; i < end; i++)
        {
            yield return tokens[i];
        }
    }

    private static string Describe(ImmutableArray<CudaToken> tokens, int start, int end) => CudaTypeMapper.Describe([.. Range(tokens, start, end)]);

    private static string Shorten(string text) => text.Length <= 60 ? text : text.Substring(0, 57) + "...";
}
