using System.Text;
using System.Text.RegularExpressions;

namespace Attention.Native.Tests.PublicApi;

/// <summary>
/// Turns PublicApiGenerator's rendering of the library into docs/api.md's overview: per namespace, one line per
/// public type (its declaration, without namespaces) listing its public members by name. Overloads are listed once,
/// methods end in <c>(…)</c>, constructors read <c>new(…)</c>; overrides and protected members are left out (the
/// approved file has them).
/// </summary>
internal static partial class PublicApiOverview
{
    /// <summary>The markdown for the text between docs/api.md's markers, ending in a newline.</summary>
    /// <param name="api">The public API as PublicApiGenerator renders it.</param>
    /// <returns>The overview.</returns>
    public static string Render(string api)
    {
        var output = new StringBuilder();
        var types = new List<ApiType>(); // of the current namespace, in declaration order (outer before nested)
        var open = new Stack<(int Indent, ApiType Type)>();
        ApiType? declared = null; // the type declared on the previous line: a "where" line that follows is its own
        foreach (string raw in api.ReplaceLineEndings("\n").Split('\n'))
        {
            string line = raw.TrimEnd();
            string text = line.TrimStart();
            int indent = line.Length - text.Length;
            if (text.StartsWith("namespace ", StringComparison.Ordinal))
            {
                Write(output, types);
                output.Append(output.Length == 0 ? "" : "\n").Append("#### `").Append(text["namespace ".Length..]).Append("`\n\n");
                continue;
            }

            if (declared is not null && text.StartsWith("where ", StringComparison.Ordinal))
            {
                declared.Declaration += " " + Whitespace().Replace(text, " ");
                continue;
            }

            declared = null;
            if (text == "}" && open.Count > 0 && open.Peek().Indent == indent)
            {
                open.Pop();
                continue;
            }

            var type = TypeDeclaration().Match(text);
            if (type.Success)
            {
                // A nested type is named with its outer types: Outer<T>.Inner.
                var name = type.Groups["name"];
                string fullName = (open.Count > 0 ? open.Peek().Type.Name + "." : "") + name.Value;
                string declaration = text["public ".Length..name.Index] + fullName + text[(name.Index + name.Length)..];
                declared = new ApiType(fullName, Simplify(declaration));
                types.Add(declared);
                // A delegate is declared on one line; every other type opens a block.
                if (!text.Contains(" delegate ", StringComparison.Ordinal))
                {
                    open.Push((indent, declared));
                }

                continue;
            }

            if (open.Count == 0 || open.Peek().Indent != indent - 4)
            {
                continue;
            }

            var owner = open.Peek().Type;
            string? member = text.StartsWith("public ", StringComparison.Ordinal) ? MemberName(text, owner.Name)
                : EnumValue().Match(text) is { Success: true } value ? value.Groups[1].Value
                : null;
            if (member is not null)
            {
                owner.Add(member);
            }
        }

        Write(output, types);
        return output.ToString();
    }

    private static void Write(StringBuilder output, List<ApiType> types)
    {
        foreach (var type in types)
        {
            output.Append("- `").Append(type.Declaration).Append('`');
            if (type.Members.Count > 0)
            {
                output.Append(": ").AppendJoin(", ", type.Members.Select(m => "`" + m + "`"));
            }

            output.Append('\n');
        }

        types.Clear();
    }

    /// <summary>The member's display name, or null for members the overview leaves out.</summary>
    private static string? MemberName(string text, string typeName)
    {
        if (text.Contains(" override ", StringComparison.Ordinal))
        {
            return null;
        }

        int operatorAt = text.IndexOf(" operator ", StringComparison.Ordinal);
        if (operatorAt >= 0)
        {
            string symbol = text[(operatorAt + " operator ".Length)..];
            return "operator " + symbol[..symbol.IndexOf('(', StringComparison.Ordinal)];
        }

        int end = text.IndexOfAny(['(', '{', '=', ';']);
        bool method = end >= 0 && text[end] == '(';
        string head = (end >= 0 ? text[..end] : text).TrimEnd();

        string name = LastIdentifier(head);
        string shortTypeName = typeName[(typeName.LastIndexOf('.') + 1)..];
        int arity = shortTypeName.IndexOf('<', StringComparison.Ordinal);
        if (method && name == (arity < 0 ? shortTypeName : shortTypeName[..arity]))
        {
            return text[end + 1] == ')' ? "new()" : "new(…)";
        }

        return name switch
        {
            "op_Implicit" => "implicit operator",
            "op_Explicit" => "explicit operator",
            _ when !method => name,
            _ => name + (text[end + 1] == ')' ? "()" : "(…)"),
        };
    }

    /// <summary>The last identifier of a declaration head, with its type parameters (<c>Allocate&lt;T&gt;</c>).</summary>
    private static string LastIdentifier(string head)
    {
        int depth = 0;
        int i = head.Length - 1;
        for (; i >= 0; i--)
        {
            char c = head[i];
            depth += c == '>' ? 1 : c == '<' ? -1 : 0;
            if (depth == 0 && c == ' ')
            {
                break;
            }
        }

        return head[(i + 1)..];
    }

    /// <summary>Drops namespace qualifiers (<c>Attention.Native.AttentionShape</c> → <c>AttentionShape</c>).</summary>
    private static string Simplify(string declaration) => Qualifier().Replace(declaration, "");

    [GeneratedRegex(@"^public (?:(?:abstract|sealed|static|readonly|ref|partial) )*(?:record struct|record|class|struct|interface|enum|delegate [^ ]+) (?<name>[A-Za-z_]\w*(?:<[^>]*>)?)")]
    private static partial Regex TypeDeclaration();

    [GeneratedRegex(@"^([A-Za-z_]\w*) = ")]
    private static partial Regex EnumValue();

    [GeneratedRegex(@"\b(?:[A-Za-z_]\w*\.)+(?=[A-Za-z_])")]
    private static partial Regex Qualifier();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    private sealed class ApiType(string name, string declaration)
    {
        public string Name { get; } = name;

        public string Declaration { get; set; } = declaration;

        public List<string> Members { get; } = [];

        /// <summary>Adds a member once; overloads are one entry, <c>M(…)</c> when any takes parameters.</summary>
        public void Add(string member)
        {
            string withParameters = member.EndsWith("()", StringComparison.Ordinal) ? member[..^2] + "(…)" : member;
            string withoutParameters = member.EndsWith("(…)", StringComparison.Ordinal) ? member[..^3] + "()" : member;
            int existing = Members.FindIndex(m => m == member || m == withParameters || m == withoutParameters);
            if (existing < 0)
            {
                Members.Add(member);
            }
            else if (member == withParameters)
            {
                Members[existing] = member;
            }
        }
    }
}
