using System.Collections.Generic;
using System.Collections.Immutable;

namespace Attention.Native.Generators.Parsing;

/// <summary>
/// Which tokens of a file stand at namespace scope — inside nothing but <c>namespace</c> and <c>extern "C"</c>
/// blocks — and in which namespace: where params structs and entry-macro invocations are looked for (a struct
/// inside a function or another struct is no params struct; a call inside a function body is no invocation).
/// </summary>
internal sealed class FileScopes
{
    private readonly bool[] atNamespaceScope;
    private readonly string[] namespaces;

    private FileScopes(bool[] atNamespaceScope, string[] namespaces)
    {
        this.atNamespaceScope = atNamespaceScope;
        this.namespaces = namespaces;
    }

    public static FileScopes Of(ParseContext context)
    {
        ImmutableArray<CudaToken> tokens = context.Tokens;
        var atScope = new bool[tokens.Length];
        var names = new string[tokens.Length];
        // One entry per open brace: the namespace it leaves current (namespace and extern "C" blocks), or null.
        var braces = new Stack<string?>();
        string current = string.Empty;
        int otherDepth = 0;
        for (int i = 0; i < tokens.Length; i++)
        {
            CudaToken token = tokens[i];
            atScope[i] = otherDepth == 0;
            names[i] = current;
            if (token.IsPunctuation("{"))
            {
                string? opened = otherDepth > 0 ? null : Opens(context, i, current);
                braces.Push(opened);
                if (opened is null)
                {
                    otherDepth++;
                }
                else
                {
                    current = opened;
                }
            }
            else if (token.IsPunctuation("}") && braces.Count > 0)
            {
                string? closed = braces.Pop();
                if (closed is null)
                {
                    otherDepth--;
                }
                else
                {
                    current = Enclosing(braces);
                }
            }
        }

        return new FileScopes(atScope, names);
    }

    /// <summary>Whether token <paramref name="index"/> stands at namespace scope.</summary>
    public bool AtNamespaceScope(int index) => atNamespaceScope[index];

    /// <summary>The namespace token <paramref name="index"/> stands in: <c>attention::mma</c>, or empty for the global one.</summary>
    public string NamespaceOf(int index) => namespaces[index];

    /// <summary>
    /// What the brace at <paramref name="open"/> opens: a namespace (its full name), an <c>extern "C"</c> block (the
    /// namespace it stands in), or anything else (null).
    /// </summary>
    private static string? Opens(ParseContext context, int open, string current)
    {
        if (KernelSiteFinder.IsExternC(context, open - 2))
        {
            return current;
        }

        // namespace [a[::b...]] {  (inline namespaces and anonymous ones included)
        var parts = new List<string>();
        int i = open - 1;
        while (i >= 0)
        {
            CudaToken token = context.Tokens[i];
            if (token.IsIdentifier("namespace"))
            {
                parts.Reverse();
                string name = string.Join("::", parts);
                return current.Length == 0 ? name : name.Length == 0 ? current : current + "::" + name;
            }

            if (token.Kind == CudaTokenKind.Identifier || token.IsPunctuation(":"))
            {
                if (token.Kind == CudaTokenKind.Identifier)
                {
                    parts.Add(token.Text);
                }

                i--;
                continue;
            }

            break;
        }

        return null;
    }

    private static string Enclosing(Stack<string?> braces)
    {
        foreach (string? scope in braces)
        {
            if (scope is not null)
            {
                return scope;
            }
        }

        return string.Empty;
    }
}
