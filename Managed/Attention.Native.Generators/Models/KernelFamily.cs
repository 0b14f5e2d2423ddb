namespace Attention.Native.Generators.Models;

/// <summary>
/// Kernels named <c>&lt;stem&gt;_f32</c>, <c>_f16</c>, <c>_bf16</c> (two or more of them) that take one params struct,
/// each with its own element type: they get one name lookup, <c>KernelNames.&lt;Stem&gt;Name&lt;T&gt;()</c>.
/// Position-free, like <see cref="KernelModel"/>.
/// </summary>
/// <param name="Stem">The common name before the dtype suffix, e.g. <c>attention_simt</c>.</param>
/// <param name="MethodName">The lookup's C# stem, e.g. <c>AttentionSimt</c>.</param>
/// <param name="Members">The kernels, in dtype order (f32, f16, bf16).</param>
internal sealed record KernelFamily(string Stem, string MethodName, EquatableArray<FamilyMember> Members);

/// <summary>One kernel of a family.</summary>
/// <param name="DType">The element type its name ends in.</param>
/// <param name="Kernel">The kernel's entry point, e.g. <c>attention_simt_f16</c>.</param>
/// <param name="MethodName">Its C# stem, e.g. <c>AttentionSimtF16</c>.</param>
internal sealed record FamilyMember(DType DType, string Kernel, string MethodName);
