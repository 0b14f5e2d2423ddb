namespace Attention.Native.Generators.Models;

/// <summary>
/// Kernels named <c>&lt;stem&gt;_f32</c>, <c>_f16</c>, <c>_bf16</c> (two or more of them) whose signatures differ only
/// in their element pointers: they get one generic launcher, <c>NativeKernels.&lt;Stem&gt;&lt;T&gt;</c>, and one name
/// lookup, <c>KernelNames.&lt;Stem&gt;Name&lt;T&gt;()</c>. Position-free, like <see cref="KernelModel"/>.
/// </summary>
/// <param name="Stem">The common name before the dtype suffix, e.g. <c>attention_simt</c>.</param>
/// <param name="MethodName">The generic launcher's C# name, e.g. <c>AttentionSimt</c>.</param>
/// <param name="Members">The kernels, in dtype order (f32, f16, bf16).</param>
/// <param name="Parameters">The generic launcher's parameters in signature order: element pointers as <c>DevicePointer&lt;T&gt;</c>.</param>
internal sealed record KernelFamily(string Stem, string MethodName, EquatableArray<FamilyMember> Members, EquatableArray<FamilyParameter> Parameters);

/// <summary>One kernel of a family.</summary>
/// <param name="DType">The element type its name ends in.</param>
/// <param name="Kernel">The kernel's entry point, e.g. <c>attention_simt_f16</c>.</param>
/// <param name="MethodName">Its own launcher's C# name, e.g. <c>AttentionSimtF16</c>.</param>
internal sealed record FamilyMember(DType DType, string Kernel, string MethodName);

/// <summary>A parameter of a family's generic launcher.</summary>
/// <param name="Parameter">As the first member declares it; for an element pointer, with <c>T</c> for the element type.</param>
/// <param name="IsElement">Whether it points to each member's own element type (q, k, v, o), rather than having one type in all.</param>
internal sealed record FamilyParameter(ParameterModel Parameter, bool IsElement);
