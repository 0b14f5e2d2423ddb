namespace Attention.Native.Generators.Models;

/// <summary>
/// A params struct as C lays it out and as C# mirrors it. Position-free, like <see cref="KernelModel"/>.
/// </summary>
/// <param name="CudaName">The C++ name, e.g. <c>AttentionParams</c>.</param>
/// <param name="QualifiedName">With its namespaces, e.g. <c>attention::AttentionParams</c>, for documentation.</param>
/// <param name="Name">The C# name, e.g. <c>AttentionParams</c>.</param>
/// <param name="TypeParameter">The template's one type parameter (<c>T</c>), or null for a plain struct.</param>
/// <param name="FileName">The file that defines it.</param>
/// <param name="Fields">The data members in declaration order.</param>
/// <param name="Size">The struct's size in bytes by C's layout rules (the kernels' <c>.param</c> array).</param>
internal sealed record StructModel(
    string CudaName, string QualifiedName, string Name, string? TypeParameter, string FileName, EquatableArray<FieldModel> Fields, int Size)
{
    /// <summary>The C# type as generated code names it: <c>global::...AttentionParams&lt;T&gt;</c>.</summary>
    public string QualifiedCSharpName(string typeArgument) =>
        "global::" + Emit.SourceWriter.Namespace + "." + Name + (TypeParameter is null ? string.Empty : "<" + typeArgument + ">");
}

/// <summary>One data member of a params struct.</summary>
/// <param name="CudaName">The member's C++ name, e.g. <c>key_lengths</c>.</param>
/// <param name="CudaType">Its type as written, e.g. <c>const int*</c>.</param>
/// <param name="Name">The C# field name, e.g. <c>KeyLengths</c>.</param>
/// <param name="Type">The fully qualified C# type (the type parameter's name for an element pointer's element).</param>
/// <param name="Offset">Its byte offset in the C struct.</param>
/// <param name="Comment">The line comment that follows it in the source, or an empty string.</param>
internal sealed record FieldModel(string CudaName, string CudaType, string Name, string Type, int Offset, string Comment);
