using System.Collections.Immutable;

namespace Attention.Native.Generators.Models;

/// <summary>An element type a kernel is written for, as its name's suffix says (<c>attention_simt_f16</c>).</summary>
/// <param name="Suffix">The suffix, without its underscore: <c>f32</c>, <c>f16</c> or <c>bf16</c>.</param>
/// <param name="CudaType">The CUDA element type: <c>float</c>, <c>__half</c> or <c>__nv_bfloat16</c>.</param>
/// <param name="CSharpType">The fully qualified C# element type.</param>
internal sealed record DType(string Suffix, string CudaType, string CSharpType)
{
    public static readonly DType F32 = new("f32", "float", "float");

    public static readonly DType F16 = new("f16", "__half", "global::System.Half");

    public static readonly DType Bf16 = new("bf16", "__nv_bfloat16", "global::Attention.Native.BFloat16");

    /// <summary>Every dtype, in the order a family lists and dispatches its members.</summary>
    public static readonly ImmutableArray<DType> All = ImmutableArray.Create(F32, F16, Bf16);

    /// <summary>The launcher type of a pointer to this element type.</summary>
    public string DevicePointer => DevicePointerOf(CSharpType);

    /// <summary>The element type's full name at run time (<c>Type.FullName</c>), as exception messages show it.</summary>
    public string RuntimeName => this == F32 ? "System.Single" : CSharpType.Replace("global::", string.Empty);

    /// <summary><c>DevicePointer&lt;<paramref name="element"/>&gt;</c>, fully qualified.</summary>
    public static string DevicePointerOf(string element) => "global::Attention.Native.Cuda.Interop.DevicePointer<" + element + ">";

    /// <summary>The dtype whose CUDA type is <paramref name="cudaType"/> (<c>__half</c>), or null.</summary>
    public static DType? FromCudaType(string cudaType)
    {
        foreach (DType dtype in All)
        {
            if (dtype.CudaType == cudaType)
            {
                return dtype;
            }
        }

        return null;
    }

    /// <summary>The dtype <paramref name="kernelName"/> ends in and the non-empty stem before it, or null.</summary>
    public static DType? Split(string kernelName, out string stem)
    {
        foreach (DType dtype in All)
        {
            string suffix = "_" + dtype.Suffix;
            if (kernelName.Length > suffix.Length && kernelName.EndsWith(suffix, System.StringComparison.Ordinal))
            {
                stem = kernelName.Substring(0, kernelName.Length - suffix.Length);
                return dtype;
            }
        }

        stem = string.Empty;
        return null;
    }
}
