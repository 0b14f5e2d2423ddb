namespace Attention.Native.Generators.Models;

/// <summary>
/// A kernel's one parameter, a params struct by value: <c>const __grid_constant__ attention::AttentionParams&lt;__half&gt;
/// params</c>. Resolved against the structs of every file by <see cref="KernelCatalogBuilder"/>.
/// </summary>
/// <param name="CudaType">The type as written, e.g. <c>const __grid_constant__ attention::AttentionParams&lt;__half&gt;</c>.</param>
/// <param name="StructName">The struct's name without namespaces, e.g. <c>AttentionParams</c>.</param>
/// <param name="TypeArgument">The template argument as written (<c>__half</c>), or null for a struct that is not a template.</param>
internal sealed record ParamsReference(string CudaType, string StructName, string? TypeArgument)
{
    /// <summary>The element type the template argument names, or null (none, or not an element type).</summary>
    public DType? ElementType => TypeArgument is null ? null : DType.FromCudaType(TypeArgument);

    /// <summary>The struct as the C++ source instantiates it: <c>AttentionParams&lt;__half&gt;</c>.</summary>
    public string Describe() => TypeArgument is null ? StructName : StructName + "<" + TypeArgument + ">";
}
