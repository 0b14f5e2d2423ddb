using System.Reflection;
using System.Runtime.Loader;
using Attention.Native.Generators.Tests.Infrastructure;

namespace Attention.Native.Generators.Tests;

/// <summary>
/// The generated generic launcher and name lookup, run: each element type reaches its own kernel with the addresses
/// unchanged, and any other type is refused with the family's stem and the type in the message.
/// </summary>
public sealed class FamilyDispatchTests
{
    private const string Caller = """
        namespace Attention.Native.Cuda.Interop
        {
            internal static class Caller
            {
                /// <summary>Launches through the generic launcher; says which kernel the stand-in launcher got, and how.</summary>
                public static string Launch<T>(ulong x)
                    where T : unmanaged
                {
                    NativeKernels.Scale<T>(42, default, new DevicePointer<T>(x), new DevicePointer<T>(x + 64), DevicePointer<float>.Null, 10, 0.5f);
                    return KernelLauncher.LastKernel + " " + KernelLauncher.LastFunction + " " + KernelLauncher.LastFirstArgument;
                }

                /// <summary>Launches under another entry point's name (a function sharing the parameter list).</summary>
                public static string LaunchAs<T>(ulong x, string name)
                    where T : unmanaged
                {
                    NativeKernels.Scale<T>(42, default, new DevicePointer<T>(x), new DevicePointer<T>(x + 64), DevicePointer<float>.Null, 10, 0.5f, __kernelName: name);
                    return KernelLauncher.LastKernel + " " + KernelLauncher.LastFunction;
                }

                /// <summary>The generated name lookup.</summary>
                public static string Name<T>()
                    where T : unmanaged => KernelNames.ScaleName<T>();
            }
        }
        """;

    private static readonly Lazy<Assembly> Compiled = new(Compile);

    public static TheoryData<string, string> Members => new()
    {
        { "float", "scale_f32" },
        { "Half", "scale_f16" },
        { "BFloat16", "scale_bf16" },
    };

    [Theory]
    [MemberData(nameof(Members))]
    public void Each_element_type_launches_its_own_kernel_with_the_same_address(string element, string kernel)
    {
        Assert.Equal(kernel + " 42 4096", Call("Launch", element, 4096UL));
        Assert.Equal(kernel, Call("Name", element));
    }

    [Theory]
    [MemberData(nameof(Members))]
    public void A_named_launch_reports_that_name_through_the_family(string element, string kernel)
    {
        Assert.Equal("scale_other 42", Call("LaunchAs", element, 4096UL, "scale_other"));
        Assert.Equal(kernel + " 42 4096", Call("Launch", element, 4096UL));
    }

    [Theory]
    [InlineData("Launch")]
    [InlineData("Name")]
    public void Other_element_types_are_not_supported_and_named(string method)
    {
        object[] arguments = method == "Launch" ? [4096UL] : [];
        var error = Assert.IsType<NotSupportedException>(
            Assert.Throws<TargetInvocationException>(() => Call(method, "int", arguments)).InnerException);

        Assert.Equal(
            "The 'scale' kernels have no version for element type System.Int32; there are scale_f32 (System.Single), "
            + "scale_f16 (System.Half), scale_bf16 (Attention.Native.BFloat16).",
            error.Message);
    }

    private static string Call(string method, string element, params object[] arguments)
    {
        Type type = element switch
        {
            "float" => typeof(float),
            "Half" => typeof(Half),
            "int" => typeof(int),
            _ => Compiled.Value.GetType("Attention.Native.BFloat16", throwOnError: true)!,
        };
        MethodInfo generic = Compiled.Value.GetType("Attention.Native.Cuda.Interop.Caller", throwOnError: true)!.GetMethod(method)!;
        return (string)generic.MakeGenericMethod(type).Invoke(null, arguments)!;
    }

    /// <summary>The generated code for <see cref="CudaSamples.ScaleFamily"/>, with the caller, emitted and loaded.</summary>
    private static Assembly Compile()
    {
        GeneratorRun run = GeneratorHarness.Run([InMemoryAdditionalText.Native("scale.cu", CudaSamples.ScaleFamily)], [Caller]);
        Assert.Empty(run.Diagnostics);
        using var image = new MemoryStream();
        Microsoft.CodeAnalysis.Emit.EmitResult result = run.Compilation.Emit(image);
        Assert.True(result.Success, string.Join("\n", result.Diagnostics));
        image.Position = 0;
        return new AssemblyLoadContext(nameof(FamilyDispatchTests), isCollectible: true).LoadFromStream(image);
    }
}
