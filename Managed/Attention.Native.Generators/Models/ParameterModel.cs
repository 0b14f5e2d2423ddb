namespace Attention.Native.Generators.Models;

/// <summary>One kernel parameter: its CUDA declaration and the C# launcher parameter it becomes.</summary>
/// <param name="CudaName">The name in the <c>.cu</c> signature.</param>
/// <param name="CudaType">The CUDA type as written (comments and extra whitespace removed), e.g. <c>const float* __restrict__</c>.</param>
/// <param name="Name">The C# parameter name: camelCase, <c>@</c>-escaped where it is a keyword.</param>
/// <param name="Type">The fully qualified C# type.</param>
internal sealed record ParameterModel(string CudaName, string CudaType, string Name, string Type);
