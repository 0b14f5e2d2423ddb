using System.Collections.Generic;
using Attention.Native.Generators.Models;

namespace Attention.Native.Generators.Parsing;

/// <summary>
/// The field type table of <c>Native/README.md</c>: pointers to the element types (or to the struct's type parameter)
/// become typed <c>DevicePointer&lt;T&gt;</c>s, scalars their C# equivalents, each with its size and alignment in C
/// (the same in C#: a <c>DevicePointer&lt;T&gt;</c> is one 8-byte address). <c>const</c> (either side of the type)
/// and <c>__restrict__</c> are allowed anywhere; anything else has no mapping.
/// </summary>
internal static class CudaTypeMapper
{
    private const int PointerSize = 8;

    private static readonly Dictionary<string, string> Pointees = new(System.StringComparer.Ordinal)
    {
        [DType.F32.CudaType] = DType.F32.CSharpType,
        [DType.F16.CudaType] = DType.F16.CSharpType,
        [DType.Bf16.CudaType] = DType.Bf16.CSharpType,
        ["unsigned char"] = "bool",
        ["bool"] = "bool",
        ["int"] = "int",
        ["signed char"] = "sbyte",
        ["long long"] = "long",
    };

    private static readonly Dictionary<string, (string Type, int Size)> Scalars = new(System.StringComparer.Ordinal)
    {
        ["int"] = ("int", 4),
        ["unsigned int"] = ("uint", 4),
        ["long long"] = ("long", 8),
        ["unsigned long long"] = ("ulong", 8),
        ["float"] = ("float", 4),
        ["double"] = ("double", 8),
    };

    /// <summary>
    /// Opaque structs a params struct may hold by value, by their unqualified C++ name: the C# mirror, the C size and
    /// the C alignment (larger than the mirror's own, so <see cref="StructParser"/> holds such a member to offsets where
    /// C#'s sequential layout agrees). <c>TensorMap</c> is a <c>CUtensorMap</c> (Native/hopper/hopper_ptx.cuh), which
    /// the TMA kernels take in their parameter space.
    /// </summary>
    private static readonly Dictionary<string, (string Type, int Size, int Alignment)> Opaque = new(System.StringComparer.Ordinal)
    {
        ["TensorMap"] = (TensorMapType, 128, 64),
    };

    /// <summary>The C# mirror of <c>hopper::TensorMap</c>.</summary>
    public const string TensorMapType = "global::Attention.Native.Cuda.Interop.TensorMap";

    /// <summary>The C alignment of a mapped field (<see cref="Map"/>): its size, except for the opaque structs.</summary>
    public static int Alignment((string Type, int Size) mapped)
    {
        foreach (var opaque in Opaque.Values)
        {
            if (opaque.Type == mapped.Type)
            {
                return opaque.Alignment;
            }
        }

        return mapped.Size;
    }

    /// <summary>Words that are part of a type, so never a kernel's, a struct's or a field's name.</summary>
    private static readonly HashSet<string> TypeWords = new(System.StringComparer.Ordinal)
    {
        "const", "volatile", "__restrict__", "__restrict", "unsigned", "signed", "char", "short", "int", "long",
        "float", "double", "bool", "void", "__half", "__nv_bfloat16", "__grid_constant__", "struct",
    };

    public static bool IsTypeWord(string word) => TypeWords.Contains(word);

    /// <summary>
    /// The fully qualified C# type and the C size (= alignment) for a field's type tokens (its name excluded), or null.
    /// <paramref name="typeParameter"/> is the struct's template parameter (<c>T</c>), whose pointers become
    /// <c>DevicePointer&lt;T&gt;</c>; null for a plain struct.
    /// </summary>
    public static (string Type, int Size)? Map(IReadOnlyList<CudaToken> typeTokens, string? typeParameter = null)
    {
        if (OpaqueName(typeTokens) is { } opaqueName && Opaque.TryGetValue(opaqueName, out var opaqueType))
        {
            return (opaqueType.Type, opaqueType.Size);
        }

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
        if (pointers == 0)
        {
            return Scalars.TryGetValue(baseType, out (string, int) scalar) ? scalar : null;
        }

        if (pointers == 1 && typeParameter is not null && baseType == typeParameter)
        {
            return (DType.DevicePointerOf(typeParameter), PointerSize);
        }

        return pointers == 1 && Pointees.TryGetValue(baseType, out string? pointee) ? (DType.DevicePointerOf(pointee), PointerSize) : null;
    }

    /// <summary>The last name of a possibly qualified plain name (<c>const hopper::TensorMap</c>: <c>TensorMap</c>), else null.</summary>
    private static string? OpaqueName(IReadOnlyList<CudaToken> typeTokens)
    {
        var tokens = new List<CudaToken>(typeTokens.Count);
        foreach (CudaToken token in typeTokens)
        {
            if (!token.IsIdentifier("const"))
            {
                tokens.Add(token);
            }
        }

        int i = 0;
        while (i + 3 < tokens.Count && tokens[i].Kind == CudaTokenKind.Identifier && tokens[i + 1].IsPunctuation(":") && tokens[i + 2].IsPunctuation(":"))
        {
            i += 3;
        }

        return i == tokens.Count - 1 && tokens[i].Kind == CudaTokenKind.Identifier ? tokens[i].Text : null;
    }

    /// <summary>The type as written, without comments or extra spaces: <c>const float* __restrict__</c>, <c>a::B&lt;T&gt;</c>.</summary>
    public static string Describe(IReadOnlyList<CudaToken> tokens)
    {
        var text = new System.Text.StringBuilder();
        for (int i = 0; i < tokens.Count; i++)
        {
            CudaToken token = tokens[i];
            bool scope = token.IsPunctuation(":") && (Is(tokens, i - 1, ":") || Is(tokens, i + 1, ":"));
            bool afterScope = Is(tokens, i - 1, ":") && Is(tokens, i - 2, ":");
            bool attach = scope || afterScope
                || (token.Kind == CudaTokenKind.Punctuation && token.Text is "*" or "&" or "[" or "]" or "," or "<" or ">" or "(" or ")" or "{" or "}")
                || (i > 0 && tokens[i - 1].Text is "[" or "(" or "<" or "{");
            if (i > 0 && !attach)
            {
                text.Append(' ');
            }

            text.Append(token.Text);
        }

        return text.ToString();
    }

    private static bool Is(IReadOnlyList<CudaToken> tokens, int index, string punctuation) =>
        index >= 0 && index < tokens.Count && tokens[index].IsPunctuation(punctuation);
}
