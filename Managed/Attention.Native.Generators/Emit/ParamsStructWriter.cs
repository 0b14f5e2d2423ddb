using System.Linq;
using Attention.Native.Generators.Models;

namespace Attention.Native.Generators.Emit;

/// <summary>
/// Writes a params struct's C# mirror: a <c>[StructLayout(LayoutKind.Sequential)]</c> struct with one field per C
/// member, in order (every field type is aligned to its size in both languages, so sequential layout is C's layout);
/// <c>NativeSize</c> and <c>NativeOffsets</c>, the C layout as the generator computed it, for tests to hold the runtime
/// layout and the PTX's <c>.param</c> size to; and <c>Kernels</c>, the entry points that take it.
/// </summary>
internal static class ParamsStructWriter
{
    public const string TypeParameterDocumentation = "The element type of the <c>T*</c> fields: that of the kernel's name (<c>_f32</c> float, <c>_f16</c> Half, <c>_bf16</c> BFloat16).";

    public static string HintName(ParamsStruct paramsStruct) => paramsStruct.Struct.Name + ".g.cs";

    public static string Write(ParamsStruct paramsStruct)
    {
        StructModel s = paramsStruct.Struct;
        string type = s.Name + (s.TypeParameter is null ? string.Empty : "<" + s.TypeParameter + ">");
        SourceWriter writer = SourceWriter.BeginFile();
        writer.Line("/// <summary>");
        writer.Line("/// The C struct <c>" + SourceWriter.Xml(CudaName(s)) + "</c> (<c>" + SourceWriter.Xml(s.FileName)
            + "</c>), field for field in C's layout: the one parameter of the kernels in <see cref=\"Kernels\"/>, launched by");
        writer.Line("/// <c>NativeKernels.Launch</c>.");
        writer.Line("/// </summary>");
        if (s.TypeParameter is not null)
        {
            writer.Line("/// <typeparam name=\"" + s.TypeParameter + "\">" + TypeParameterDocumentation + "</typeparam>");
        }

        // A struct with an over-aligned member (a TensorMap, 64-byte aligned in C) ends on that alignment in C: the
        // mirror's size is set to C's, since sequential layout pads to 8 bytes at most.
        string size = s.Fields.Any(static f => f.Type == Parsing.CudaTypeMapper.TensorMapType) ? ", Size = " + s.Size : string.Empty;
        writer.Line("[global::System.Runtime.InteropServices.StructLayout(global::System.Runtime.InteropServices.LayoutKind.Sequential" + size + ")]");
        writer.Line(SourceWriter.GeneratedCodeAttribute);
        writer.Line("internal struct " + type);
        if (s.TypeParameter is not null)
        {
            writer.Line("    where " + s.TypeParameter + " : unmanaged");
        }

        writer.Open();
        writer.Line("/// <summary>The C struct's size in bytes, by C's layout rules: the <c>.param</c> array of each kernel that takes it.</summary>");
        writer.Line("public const int NativeSize = " + s.Size + ";");
        foreach (FieldModel field in s.Fields)
        {
            writer.Line();
            string comment = field.Comment.Length > 0 ? ": " + SourceWriter.Xml(field.Comment) : string.Empty;
            writer.Line("/// <summary><c>" + SourceWriter.Xml(field.CudaType + " " + field.CudaName) + "</c> (offset " + field.Offset + ")" + comment + "</summary>");
            writer.Line("public " + field.Type + " " + field.Name + ";");
        }

        writer.Line();
        writer.Line("/// <summary>Each field's byte offset in the C struct, in declaration order.</summary>");
        writer.Line("public static global::System.ReadOnlySpan<int> NativeOffsets => [" + string.Join(", ", s.Fields.Select(static f => f.Offset)) + "];");
        writer.Line();
        writer.Line("/// <summary>The entry points declared with this struct" + (s.TypeParameter is null ? string.Empty : " for <typeparamref name=\"" + s.TypeParameter + "\"/> (none for a type no kernel takes)")
            + ", in ordinal order.</summary>");
        writer.Line("public static global::System.Collections.Immutable.ImmutableArray<string> Kernels { get; } =");
        foreach (ParamsUse use in paramsStruct.Uses)
        {
            string list = "global::System.Collections.Immutable.ImmutableArray.Create<string>(" + string.Join(", ", use.Kernels.Select(static k => "\"" + k + "\"")) + ")";
            writer.Line("    " + (use.ElementType is null ? list + ";" : "typeof(" + s.TypeParameter + ") == typeof(" + use.ElementType.CSharpType + ") ? " + list + " :"));
        }

        if (s.TypeParameter is not null)
        {
            writer.Line("    global::System.Collections.Immutable.ImmutableArray<string>.Empty;");
        }

        return writer.EndFile();
    }

    /// <summary>The struct as C++ names it: <c>attention::AttentionParams&lt;T&gt;</c>.</summary>
    public static string CudaName(StructModel s) => s.QualifiedName + (s.TypeParameter is null ? string.Empty : "<" + s.TypeParameter + ">");
}
