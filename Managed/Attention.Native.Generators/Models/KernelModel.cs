namespace Attention.Native.Generators.Models;

/// <summary>
/// An entry point as the generator knows it: its name and the params struct it takes. Holds no source positions, so
/// moving a kernel within its file changes nothing downstream.
/// </summary>
/// <param name="Name">The <c>extern "C"</c> entry point, e.g. <c>attention_simt_f32</c>.</param>
/// <param name="MethodName">Its C# stem, e.g. <c>AttentionSimtF32</c> (<c>KernelNames.AttentionSimtF32Name</c>).</param>
/// <param name="FileName">The file that declares it (the macro invocation's file for an expanded entry point).</param>
/// <param name="Parameter">Its one parameter.</param>
internal sealed record KernelModel(string Name, string MethodName, string FileName, ParamsReference Parameter);
