namespace Attention.Native.Generators.Models;

/// <summary>A params struct some kernel takes, with the kernels that take it: what its C# files are written from.</summary>
/// <param name="Struct">The struct.</param>
/// <param name="Uses">Per element type (null for a plain struct), the kernels that take it, ordered by name.</param>
internal sealed record ParamsStruct(StructModel Struct, EquatableArray<ParamsUse> Uses);

/// <summary>The kernels that take a params struct with one element type.</summary>
/// <param name="ElementType">The template argument, or null for a plain struct.</param>
/// <param name="Kernels">The entry points, ordered by name.</param>
internal sealed record ParamsUse(DType? ElementType, EquatableArray<string> Kernels);
