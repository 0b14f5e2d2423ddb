using System.Collections.Generic;
using System.Text;

namespace Attention.Native.Generators.Emit;

/// <summary>C# names from CUDA names: <c>attention_simt_f32</c> → <c>AttentionSimtF32</c>, <c>key_lengths</c> → <c>keyLengths</c>.</summary>
internal static class Naming
{
    private static readonly HashSet<string> Keywords = new(System.StringComparer.Ordinal)
    {
        "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const",
        "continue", "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern",
        "false", "finally", "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface",
        "internal", "is", "lock", "long", "namespace", "new", "null", "object", "operator", "out", "override",
        "params", "private", "protected", "public", "readonly", "ref", "return", "sbyte", "sealed", "short",
        "sizeof", "stackalloc", "static", "string", "struct", "switch", "this", "throw", "true", "try", "typeof",
        "uint", "ulong", "unchecked", "unsafe", "ushort", "using", "virtual", "void", "volatile", "while",
    };

    /// <summary>
    /// PascalCase: the underscore-separated words, each capitalised (an all-capitals word is lowered first, so
    /// <c>HEAD_DIM</c> gives <c>HeadDim</c>); a name that would start with a digit gets a leading underscore.
    /// Returns an empty string for a name without letters or digits.
    /// </summary>
    public static string ToPascalCase(string cudaName)
    {
        var builder = new StringBuilder(cudaName.Length);
        foreach (string word in cudaName.Split('_'))
        {
            if (word.Length == 0)
            {
                continue;
            }

            string normalized = IsAllUpper(word) ? word.ToLowerInvariant() : word;
            builder.Append(char.ToUpperInvariant(normalized[0])).Append(normalized, 1, normalized.Length - 1);
        }

        if (builder.Length > 0 && char.IsDigit(builder[0]))
        {
            builder.Insert(0, '_');
        }

        return builder.ToString();
    }

    /// <summary>camelCase, as <see cref="ToPascalCase"/> with the first letter lowered and keywords <c>@</c>-escaped.</summary>
    public static string ToCamelCase(string cudaName)
    {
        string pascal = ToPascalCase(cudaName);
        if (pascal.Length == 0 || pascal[0] == '_')
        {
            return pascal;
        }

        string camel = char.ToLowerInvariant(pascal[0]) + pascal.Substring(1);
        return Keywords.Contains(camel) ? "@" + camel : camel;
    }

    /// <summary>The name without its <c>@</c> escape, as XML documentation refers to it.</summary>
    public static string Unescaped(string name) => name.Length > 0 && name[0] == '@' ? name.Substring(1) : name;

    private static bool IsAllUpper(string word)
    {
        bool hasLetter = false;
        foreach (char c in word)
        {
            if (char.IsLower(c))
            {
                return false;
            }

            hasLetter |= char.IsLetter(c);
        }

        return hasLetter;
    }
}
