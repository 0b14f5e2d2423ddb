using Attention.Native.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace Attention.Native.Generators.Tests;

/// <summary>
/// Filling a params struct with the wrong types, or launching with something that is not a params struct, is a C#
/// compile error, not a corrupted launch: element pointers are <c>DevicePointer&lt;T&gt;</c> of the struct's own
/// element type, scalars their exact C# types.
/// </summary>
public sealed class CompileTimeSafetyTests
{
    private const string Half = "DevicePointer<global::System.Half>";

    [Theory]
    [InlineData("new ScaleParams<float> { X = DevicePointer<float>.Null, Stats = DevicePointer<float>.Null, N = 10, Factor = 0.5f }")]
    [InlineData($"new ScaleParams<global::System.Half> {{ X = {Half}.Null, Y = {Half}.Null, Stats = DevicePointer<float>.Null }}")]
    [InlineData("new ScaleParams<int>()")] // compiles; the launch throws NotSupportedException
    public void Matching_struct_compiles_and_launches(string parameters) =>
        Assert.Empty(Compile(parameters).CompilerProblems());

    [Theory]
    [InlineData(
        $"new ScaleParams<float> {{ X = {Half}.Null }}",
        "CS0029",
        "Cannot implicitly convert type 'Attention.Native.Cuda.Interop.DevicePointer<System.Half>' to 'Attention.Native.Cuda.Interop.DevicePointer<float>'")]
    [InlineData(
        $"new ScaleParams<float> {{ Stats = {Half}.Null }}",
        "CS0029",
        "Cannot implicitly convert type 'Attention.Native.Cuda.Interop.DevicePointer<System.Half>' to 'Attention.Native.Cuda.Interop.DevicePointer<float>'")]
    [InlineData("new ScaleParams<float> { N = 10L }", "CS0266", "Cannot implicitly convert type 'long' to 'int'")]
    [InlineData("new ScaleParams<float> { Factor = 0.5 }", "CS0664", "Literal of type double cannot be implicitly converted to type 'float'")]
    [InlineData("new ScaleParams<float> { X = 0UL }", "CS0029", "Cannot implicitly convert type 'ulong' to 'Attention.Native.Cuda.Interop.DevicePointer<float>'")]
    [InlineData("new ScaleParams<string>()", "CS8377", "The type 'string' must be a non-nullable value type")]
    [InlineData(
        "42",
        "CS0411",
        "The type arguments for method 'NativeKernels.Launch<T>(CudaKernel, in LaunchConfiguration, in ScaleParams<T>)' cannot be inferred from the usage")]
    public void Wrong_types_do_not_compile(string parameters, string id, string message)
    {
        Diagnostic error = Compile(parameters).CompilerProblems().First();

        Assert.Equal(id, error.Id);
        Assert.Equal(DiagnosticSeverity.Error, error.Severity);
        Assert.Contains(message, error.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    /// <summary>Generates the launch for <see cref="CudaSamples.ScaleFamily"/> and compiles a launch of <paramref name="parameters"/> with it.</summary>
    private static GeneratorRun Compile(string parameters)
    {
        string caller = $$"""
            namespace Attention.Native.Cuda.Interop
            {
                internal static class Caller
                {
                    internal static void Call(global::Attention.Native.Cuda.CudaKernel kernel, LaunchConfiguration launch) =>
                        NativeKernels.Launch(kernel, in launch, {{parameters}});
                }
            }
            """;
        GeneratorRun run = GeneratorHarness.Run([InMemoryAdditionalText.Native("scale.cu", CudaSamples.ScaleFamily)], [caller]);
        Assert.Empty(run.Diagnostics);
        return run;
    }
}
