namespace Attention.Native.Generators.Models;

/// <summary>
/// What a launcher is generated from. Holds no source positions, so moving a kernel within its file does not
/// regenerate its launcher.
/// </summary>
/// <param name="Name">The <c>extern "C"</c> entry point, e.g. <c>attention_simt_f32</c>.</param>
/// <param name="MethodName">The launcher's C# name, e.g. <c>AttentionSimtF32</c>.</param>
/// <param name="FileName">The <c>.cu</c> file name (not its path, which differs between machines).</param>
/// <param name="Parameters">The parameters in signature order.</param>
internal sealed record KernelModel(string Name, string MethodName, string FileName, EquatableArray<ParameterModel> Parameters);
