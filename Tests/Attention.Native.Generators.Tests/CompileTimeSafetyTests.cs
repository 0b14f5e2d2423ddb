using Attention.Native.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace Attention.Native.Generators.Tests;

/// <summary>A C# call that does not match the CUDA signature is a C# compile error, not a corrupted launch.</summary>
public sealed class CompileTimeSafetyTests
{
    private const string Kernel = "extern \"C\" __global__ void scale_f32(float* x, int n, float factor, long long stride) { }";

    private const string Half = "DevicePointer<global::System.Half>";

    [Fact]
    public void Matching_call_compiles()
    {
        GeneratorRun run = Compile("DevicePointer<float>.Null, 10, 0.5f, 4L");

        Assert.Empty(run.CompilerProblems());
    }

    [Fact]
    public void Wrong_element_type_is_CS1503()
    {
        GeneratorRun run = Compile("DevicePointer<global::System.Half>.Null, 10, 0.5f, 4L");

        Diagnostic error = Assert.Single(run.CompilerProblems());
        Assert.Equal("CS1503", error.Id);
        Assert.Equal(DiagnosticSeverity.Error, error.Severity);
        Assert.Equal(
            "Argument 3: cannot convert from 'Attention.Native.Cuda.Interop.DevicePointer<System.Half>' to "
            + "'Attention.Native.Cuda.Interop.DevicePointer<float>'",
            error.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("DevicePointer<float>.Null, 10L, 0.5f, 4L", "Argument 4: cannot convert from 'long' to 'int'")]
    [InlineData("DevicePointer<float>.Null, 0.5f, 10, 4L", "Argument 4: cannot convert from 'float' to 'int'")]
    [InlineData("DevicePointer<float>.Null, 10, 0.5, 4L", "Argument 5: cannot convert from 'double' to 'float'")]
    [InlineData("0UL, 10, 0.5f, 4L", "Argument 3: cannot convert from 'ulong' to 'Attention.Native.Cuda.Interop.DevicePointer<float>'")]
    public void Narrowing_swapped_or_untyped_arguments_are_CS1503(string arguments, string message)
    {
        Diagnostic error = Assert.Single(Compile(arguments).CompilerProblems());

        Assert.Equal("CS1503", error.Id);
        Assert.Equal(message, error.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Missing_argument_is_CS7036()
    {
        Diagnostic error = Assert.Single(Compile("DevicePointer<float>.Null, 10, 0.5f").CompilerProblems());

        Assert.Equal("CS7036", error.Id);
        Assert.Contains("'stride'", error.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Scale(function, in launch, DevicePointer<float>.Null, DevicePointer<float>.Null, DevicePointer<float>.Null, 10, 0.5f)")]
    [InlineData($"Scale(function, in launch, {Half}.Null, {Half}.Null, DevicePointer<float>.Null, 10, 0.5f)")]
    [InlineData("Scale<global::Attention.Native.BFloat16>(function, in launch, default, default, default, 10, 0.5f)")]
    [InlineData("Scale<int>(function, in launch, default, default, default, 10, 0.5f)")] // compiles; throws NotSupportedException
    public void Generic_call_with_one_element_type_compiles(string call) =>
        Assert.Empty(CompileFamily(call).CompilerProblems());

    [Theory]
    [InlineData(
        $"Scale(function, in launch, DevicePointer<float>.Null, {Half}.Null, DevicePointer<float>.Null, 10, 0.5f)",
        "CS0411",
        "The type arguments for method 'NativeKernels.Scale<T>(nint, in LaunchConfiguration, DevicePointer<T>, DevicePointer<T>, "
            + "DevicePointer<float>, int, float, string?)' cannot be inferred from the usage")]
    [InlineData(
        $"Scale<float>(function, in launch, {Half}.Null, DevicePointer<float>.Null, DevicePointer<float>.Null, 10, 0.5f)",
        "CS1503",
        "Argument 3: cannot convert from 'Attention.Native.Cuda.Interop.DevicePointer<System.Half>' to "
            + "'Attention.Native.Cuda.Interop.DevicePointer<float>'")]
    [InlineData(
        $"Scale(function, in launch, {Half}.Null, {Half}.Null, {Half}.Null, 10, 0.5f)",
        "CS1503",
        "Argument 5: cannot convert from 'Attention.Native.Cuda.Interop.DevicePointer<System.Half>' to "
            + "'Attention.Native.Cuda.Interop.DevicePointer<float>'")]
    [InlineData(
        $"Scale(function, in launch, {Half}.Null, {Half}.Null, DevicePointer<float>.Null, 10L, 0.5f)",
        "CS1503",
        "Argument 6: cannot convert from 'long' to 'int'")]
    [InlineData(
        "Scale<string>(function, in launch, default, default, default, 10, 0.5f)",
        "CS8377",
        "The type 'string' must be a non-nullable value type")]
    public void Generic_call_with_wrong_types_does_not_compile(string call, string id, string message)
    {
        Diagnostic error = Assert.Single(CompileFamily(call).CompilerProblems());

        Assert.Equal(id, error.Id);
        Assert.Equal(DiagnosticSeverity.Error, error.Severity);
        Assert.Contains(message, error.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    private static GeneratorRun Compile(string arguments) => Compile(Kernel, "ScaleF32(function, in launch, " + arguments + ")");

    private static GeneratorRun CompileFamily(string call) => Compile(CudaSamples.ScaleFamily, call);

    /// <summary>Generates launchers from <paramref name="kernels"/> and compiles <c>NativeKernels.<paramref name="call"/></c> with them.</summary>
    private static GeneratorRun Compile(string kernels, string call)
    {
        string caller = $$"""
            namespace Attention.Native.Cuda.Interop
            {
                internal static class Caller
                {
                    internal static void Call(nint function, LaunchConfiguration launch) =>
                        NativeKernels.{{call}};
                }
            }
            """;
        GeneratorRun run = GeneratorHarness.Run([InMemoryAdditionalText.Native("scale.cu", kernels)], [caller]);
        Assert.Empty(run.Diagnostics);
        return run;
    }
}
