using System.Collections.Generic;
using Attention.Native.Generators.Models;

namespace Attention.Native.Generators.Parsing;

/// <summary>
/// The parameter type table of <c>Native/README.md</c>: pointers to the element types become typed
/// <c>DevicePointer&lt;T&gt;</c>s, scalars their C# equivalents. <c>const</c> (either side of the type) and
/// <c>__restrict__</c> are allowed anywhere; anything else has no mapping.
/// </summary>
internal static class CudaTypeMapper
{
    private static readonly Dictionary<string, string> Pointees = new(System.StringComparer.Ordinal)
    {
        [DType.F32.CudaType] = DType.F32.CSharpType,
        [DType.F16.CudaType] = DType.F16.CSharpType,
        [DType.Bf16.CudaType] = DType.Bf16.CSharpType,
        ["unsigned char"] = "bool",
        ["bool"] = "bool",
        ["int"] = "int",
    };

    private static readonly Dictionary<string, string> Scalars = new(System.StringComparer.Ordinal)
    {
        ["int"] = "int",
        ["unsigned int"] = "uint",
        ["long long"] = "long",
        ["unsigned long long"] = "ulong",
        ["float"] = "float",
        ["double"] = "double",
    };

    /// <summary>Words that are part of a type, so never a kernel's or a parameter's name.</summary>
    private static readonly HashSet<string> TypeWords = new(System.StringComparer.Ordinal)
    {
        "const", "volatile", "__restrict__", "__restrict", "unsigned", "signed", "char", "short", "int", "long",
        "float", "double", "bool", "void", "__half", "__nv_bfloat16",
    };

    public static bool IsTypeWord(string word) => TypeWords.Contains(word);

    /// <summary>The fully qualified C# type for a parameter's type tokens (its name excluded), or null.</summary>
    public static string? Map(IReadOnlyList<CudaToken> typeTokens)
    {
        var words = new List<string>(typeTokens.Count);
        int pointers = 0;
        foreach (CudaToken token in typeTokens)
        {
            if (token.IsIdentifier("const") || token.IsIdentifier("__restrict__") || token.IsIdentifier("__restrict"))
            {
                continue;
            }

            if (token.IsPunctuation("*"))
            {
                pointers++;
            }
            else if (token.Kind == CudaTokenKind.Identifier && pointers == 0)
            {
                words.Add(token.Text);
            }
            else
            {
                return null;
            }
        }

        string baseType = string.Join(" ", words);
        return pointers switch
        {
            0 => Scalars.TryGetValue(baseType, out string? scalar) ? scalar : null,
            1 => Pointees.TryGetValue(baseType, out string? pointee) ? DType.DevicePointerOf(pointee) : null,
            _ => null,
        };
    }

    /// <summary>The type as written, without comments or extra spaces: <c>const float* __restrict__</c>.</summary>
    public static string Describe(IReadOnlyList<CudaToken> tokens)
    {
        var text = new System.Text.StringBuilder();
        for (int i = 0; i < tokens.Count; i++)
        {
            CudaToken token = tokens[i];
            bool attach = token.Kind == CudaTokenKind.Punctuation && token.Text is "*" or "&" or "[" or "]" or "," or ">" or ")"
                || (i > 0 && tokens[i - 1].Text is "[" or "(" or "<");
            if (i > 0 && !attach)
            {
                text.Append(' ');
            }

            text.Append(token.Text);
        }

        return text.ToString();
    }
}
